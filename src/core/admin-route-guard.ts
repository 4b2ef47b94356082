import type { AuditEntry } from '../audit/record.js';
import { type RequestFacts, requestEntry } from '../audit/request-entry.js';
import type { AuditSink } from '../audit/sink.js';
import type { Authenticate } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import type { ScopeHierarchy } from '../authz/scopes.js';
import type { AuthGate } from '../ratelimit/auth-gate.js';
import type { ClientIpResolver } from '../ratelimit/client-ip.js';
import { RampartError } from './errors.js';

/** What {@link createAdminRouteGuard} checks with, and where it reports refusals. */
export interface AdminRouteGuardOptions {
  readonly authenticate: Authenticate;
  readonly hierarchy: ScopeHierarchy;
  readonly clientIp: ClientIpResolver;
  /** The failed-authentication budget, shared with the MCP endpoint. */
  readonly authGate?: AuthGate | undefined;
  readonly audit?: AuditSink | undefined;
  readonly observe?: ((entry: AuditEntry, facts: RequestFacts) => void) | undefined;
  /** Told when a refusal's record could not be stored (the refusal stands). */
  readonly onAuditError: (error: unknown) => void;
}

/**
 * Lets an admin route (`/metrics`) in for a credential with `scope`, on the same terms as the MCP
 * endpoint: within the client address's budget of failed attempts, and with every refusal in the
 * audit trail and before the detector. Without it a route that checks credentials itself is an
 * unmetered oracle for guessing or sorting stolen keys (401 for a dead one, 403 for a live one).
 */
export function createAdminRouteGuard(options: AdminRouteGuardOptions) {
  const gate = options.authGate;

  function report(facts: RequestFacts): void {
    const entry = requestEntry(facts);
    options.observe?.(entry, facts);
    options.audit?.append(entry)?.catch(options.onAuditError);
  }

  /**
   * @throws RampartError the authentication error, `ERR_RATE_LIMITED`, or
   *   `ERR_AUTHZ_INSUFFICIENT_SCOPE` naming `scope`.
   */
  return async function guard(
    headers: { get(name: string): string | null },
    remoteAddress: string | undefined,
    scope: string,
    route: { method: string; requestId: string },
  ): Promise<Principal> {
    const started = performance.now();
    const ip = options.clientIp(remoteAddress, headers.get('x-forwarded-for'));
    const facts = (code: string, status: number, principal?: Principal): RequestFacts => ({
      requestId: route.requestId,
      method: route.method,
      ip,
      code,
      status,
      principal,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
    let principal: Principal;
    try {
      principal = await (gate ? gate(ip, headers, options.authenticate) : options.authenticate(headers));
    } catch (error) {
      if (error instanceof RampartError) report(facts(error.code, error.status));
      throw error;
    }
    if (!options.hierarchy.satisfies(principal.scopes, scope)) {
      const error = new RampartError('ERR_AUTHZ_INSUFFICIENT_SCOPE', { data: { requiredScopes: [scope] } });
      report(facts(error.code, error.status, principal));
      throw error;
    }
    return principal;
  };
}

/** The guard {@link createAdminRouteGuard} returns. */
export type AdminRouteGuard = ReturnType<typeof createAdminRouteGuard>;
