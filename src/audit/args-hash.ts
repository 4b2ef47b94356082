import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** What a secret-looking argument's value becomes before hashing. */
export const REDACTED = '[redacted]';

/** Argument names whose values are secrets; matched case-insensitively, ignoring `-` and `_`. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|apikey|authorization|credential|privatekey|session|cookie|otp|pin$/;

/**
 * The audit trail's fingerprint of a tool's arguments: SHA-256 (hex) of their canonical JSON, with
 * the values of secret-looking names (password, token, api_key, …) replaced first. The hash proves
 * which arguments a call had to anyone who holds them, and is not logged with the arguments; the
 * replacement keeps a short secret from being recovered by hashing guesses until one matches.
 */
export function hashArguments(args: unknown): string {
  // One-shot: half the cost of createHash().update().digest() for a short text.
  return hash('sha256', redactedCanonicalJson(args, 0));
}

const REDACTED_JSON = JSON.stringify(REDACTED);

/**
 * `canonicalJson(redactSecrets(value, depth))` in one pass, without the redacted copy: 0.83 → 0.51 µs
 * for a one-argument call (Node 20), paid on every audited tool call. A property test holds the two equal.
 */
function redactedCanonicalJson(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object' || depth > 64) return canonicalJson(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const member: unknown = value[i];
      out += `${i === 0 ? '' : ','}${member === undefined ? 'null' : redactedCanonicalJson(member, depth + 1)}`;
    }
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 1) keys.sort();
  let out = '';
  for (const key of keys) {
    const member = obj[key];
    let json: string;
    if (isSecretName(key)) json = REDACTED_JSON;
    else if (member === undefined) continue;
    else json = redactedCanonicalJson(member, depth + 1);
    out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${json}`;
  }
  return `{${out}}`;
}

/** A copy of `value` with the values of secret-looking names replaced. */
export function redactSecrets(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  // Null prototype: a key named __proto__ stays a plain key.
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, member] of Object.entries(value)) {
    out[key] = isSecretName(key) ? REDACTED : redactSecrets(member, depth + 1);
  }
  return out;
}

// Argument names repeat from call to call; the answer for each is kept (up to a bound, since the
// names come from requests).
const secretNames = new Map<string, boolean>();
const MAX_REMEMBERED_NAMES = 4096;

export function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name.toLowerCase().replace(/[-_\s]/g, ''));
    if (name.length <= 64 && secretNames.size < MAX_REMEMBERED_NAMES) secretNames.set(name, secret);
  }
  return secret;
}
