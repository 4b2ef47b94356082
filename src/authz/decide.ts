import type { Principal } from '../auth/principal.js';
import type { ScopeHierarchy } from './scopes.js';

/** What a tool requires of its caller. */
export interface ToolRequirement {
  readonly name: string;
  /** The scope the tool needs; a tool without one is denied to everybody (default deny). */
  readonly scope: string | undefined;
  /** Roles the caller must all have, in addition to the scope. */
  readonly roles?: readonly string[] | undefined;
}

/** The outcome of {@link decideToolAccess}. */
export type AccessDecision =
  | { readonly allow: true }
  | { readonly allow: false; readonly reason: 'no_scope_declared' }
  | {
      readonly allow: false;
      readonly reason: 'insufficient_scope';
      readonly requiredScopes: readonly string[];
    }
  | { readonly allow: false; readonly reason: 'missing_role'; readonly missingRoles: readonly string[] };

/**
 * Decides whether `principal` may call a tool: scope (through the hierarchy), then roles.
 * Pure: no I/O, table-tested. Scope comes first so a client can step up (MCP 2026-07-28
 * "Scope Challenge Handling"); a missing role is not something a new token fixes.
 */
export function decideToolAccess(
  principal: Principal,
  tool: ToolRequirement,
  hierarchy: ScopeHierarchy,
): AccessDecision {
  if (!tool.scope) return { allow: false, reason: 'no_scope_declared' };
  if (!hierarchy.satisfies(principal.scopes, tool.scope)) {
    return { allow: false, reason: 'insufficient_scope', requiredScopes: [tool.scope] };
  }
  if (tool.roles && tool.roles.length > 0) {
    const missing = tool.roles.filter((role) => !principal.roles.has(role));
    if (missing.length > 0) return { allow: false, reason: 'missing_role', missingRoles: missing };
  }
  return { allow: true };
}
