import { ConfigError } from '../core/errors.js';

/** Scope hierarchy: which scopes each scope implies, transitively closed. */
export interface ScopeHierarchy {
  /** Every scope `granted` implies, itself included. */
  expand(granted: Iterable<string>): ReadonlySet<string>;
  /** Whether `granted` satisfies `required` (MCP authorization: "account for scope hierarchies"). */
  satisfies(granted: ReadonlySet<string>, required: string): boolean;
}

/**
 * Builds a hierarchy from `{ 'mcp:admin': ['mcp:write'], 'mcp:write': ['mcp:read'] }`.
 *
 * @throws ConfigError on a cycle, which would make two scopes equivalent by accident.
 */
export function createScopeHierarchy(implies: Readonly<Record<string, readonly string[]>>): ScopeHierarchy {
  const closure = new Map<string, ReadonlySet<string>>();
  const visit = (scope: string, stack: string[]): Set<string> => {
    if (stack.includes(scope)) {
      throw new ConfigError('authorization.hierarchy', `cycle: ${[...stack, scope].join(' -> ')}`);
    }
    const done = closure.get(scope);
    if (done) return new Set(done);
    const out = new Set<string>([scope]);
    const direct = Object.hasOwn(implies, scope) ? (implies[scope] ?? []) : [];
    for (const child of direct) for (const s of visit(child, [...stack, scope])) out.add(s);
    closure.set(scope, out);
    return out;
  };
  for (const scope of Object.keys(implies)) visit(scope, []);

  return {
    expand(granted) {
      const out = new Set<string>();
      for (const g of granted) {
        const implied = closure.get(g);
        if (implied) for (const s of implied) out.add(s);
        else out.add(g);
      }
      return out;
    },
    satisfies(granted, required) {
      if (granted.has(required)) return true;
      for (const g of granted) if (closure.get(g)?.has(required)) return true;
      return false;
    },
  };
}

/** Splits an RFC 6749 §3.3 scope string; drops empties and duplicates. */
export function parseScopeString(value: string, max = 256): string[] {
  const out = new Set<string>();
  for (const part of value.split(' ')) {
    if (part && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(part)) out.add(part);
    if (out.size >= max) break;
  }
  return [...out];
}
