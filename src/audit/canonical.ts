/**
 * Canonical JSON: object keys sorted (by UTF-16 code units, as RFC 8785 does), no whitespace,
 * strings and numbers as `JSON.stringify` writes them. Two equal values always give the same text,
 * so a hash over it does not depend on the order a writer happened to use.
 *
 * `undefined` members are left out, as `JSON.stringify` does; anything not JSON (functions, symbols,
 * bigints) is refused.
 *
 * @param replace - Called with each object key; when it returns a text, that JSON stands for the
 *   member's value, whatever it was (how the audit trail redacts secret-looking arguments).
 * @throws TypeError for values JSON cannot hold.
 */
export function canonicalJson(value: unknown, replace?: (key: string) => string | undefined): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no non-finite numbers');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      // Built by concatenation, not parts and join: fewer objects for the short texts hashed on
      // every audited call.
      if (Array.isArray(value)) {
        let out = '';
        for (let i = 0; i < value.length; i++) {
          const member: unknown = value[i];
          out += `${i === 0 ? '' : ','}${member === undefined ? 'null' : canonicalJson(member, replace)}`;
        }
        return `[${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      if (keys.length > 1) keys.sort();
      let out = '';
      for (const key of keys) {
        let json = replace?.(key);
        if (json === undefined) {
          const member = obj[key];
          if (member === undefined) continue;
          json = canonicalJson(member, replace);
        }
        out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${json}`;
      }
      return `{${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}
