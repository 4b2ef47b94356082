import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/record.js';
import type { RampartDb } from '../stores/schema.js';
import type { OAuthClient } from './client.js';
import type { SigningKeys } from './signing-keys.js';
import type { OAuthStore } from './store.js';
import type { Upstream } from './upstream.js';

/** Scopes a user may be granted: everyone gets `default`, a role adds its own. */
export interface ScopePolicy {
  readonly default: readonly string[];
  readonly byRole: Readonly<Record<string, readonly string[]>>;
}

/** Everything the endpoints of the embedded authorization server share; built once. */
export interface AuthorizationServerContext {
  /** The issuer identifier, exactly as published (no trailing slash). */
  readonly issuer: string;
  /** This server's MCP resource URI: the only `resource` (RFC 8707) tokens are issued for. */
  readonly resource: string;
  readonly https: boolean;
  readonly db: Kysely<RampartDb>;
  readonly store: OAuthStore;
  readonly keys: SigningKeys;
  readonly logger: Logger;
  /** The scopes this resource knows, with their descriptions for the consent page. */
  readonly knownScopes: readonly string[];
  readonly scopePolicy: ScopePolicy;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly codeTtlSeconds: number;
  readonly baseHeaders: Readonly<Record<string, string>>;
  /** Finds a client by id: pre-registered, a metadata document (an https URL), or registered. */
  findClient(clientId: string): Promise<OAuthClient | undefined>;
  /** The upstream identity provider users sign in with, instead of local passwords. */
  readonly upstream?: Upstream | undefined;
  /**
   * Failed sign-ins per account and per client address. `begin` charges one attempt to both before
   * the password check (scrypt, the costly part), so concurrent guesses cannot all pass one check;
   * it answers the wait in seconds when either is used up (nothing charged then). A sign-in that
   * succeeds gives its attempt back.
   */
  readonly signInThrottle: {
    begin(user: string, address: string): number | { succeeded(): void };
  };

  /**
   * Writes an audit record (the server's trail, when it has one). In durable mode the promise
   * settles once the record is on disk: approvals and registrations wait for it and fail closed.
   */
  audit(entry: AuditEntry): Promise<void>;
  /** Told when a grant is revoked, so that cached verifications of its tokens end now. */
  onRevoke(grantId: string): void;
  readonly now: () => number;
}

/** The scopes a user with `roles` may hold. */
export function allowedScopes(policy: ScopePolicy, roles: readonly string[]): Set<string> {
  const out = new Set(policy.default);
  for (const role of roles) for (const s of policy.byRole[role] ?? []) out.add(s);
  return out;
}

/** An audit record nothing waits for (refusals, failures): a write error is logged, not thrown. */
export function note(ctx: AuthorizationServerContext, entry: AuditEntry): void {
  ctx.audit(entry).catch((err: unknown) => ctx.logger.error({ err }, 'audit record not stored'));
}
