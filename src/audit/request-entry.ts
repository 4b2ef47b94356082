import type { Principal } from '../auth/principal.js';
import type { AuditEntry, AuditEvent, AuditOutcome, AuditPrincipal } from './record.js';

/** What the endpoint learned about one request, as the audit trail needs it. */
export interface RequestFacts
  extends Pick<AuditEntry, 'tool' | 'method' | 'rpcId' | 'argsHash' | 'ip' | 'protocol'> {
  readonly requestId: string;
  readonly status: number;
  readonly durationMs: number;
  readonly principal?: Principal | undefined;
  /** The refusal's error code, when the boundary refused the request. */
  readonly code?: string | undefined;
  /** How a tool call ended, as the dispatcher saw it, and why. */
  readonly toolOutcome?: AuditOutcome | undefined;
  readonly toolReason?: string | undefined;
}

/** The one audit record of an MCP request. */
export function requestEntry(facts: RequestFacts): AuditEntry {
  const { code } = facts;
  let event: AuditEvent;
  let outcome: AuditOutcome;
  let reason: string | undefined = code;
  if (code?.startsWith('ERR_AUTH_')) {
    event = 'auth.failure';
    outcome = 'deny';
  } else if (code === 'ERR_RATE_LIMITED') {
    event = 'rate.limited';
    outcome = 'deny';
  } else if (code?.startsWith('ERR_AUTHZ_')) {
    event = 'authz.denied';
    outcome = 'deny';
  } else if (facts.principal === undefined) {
    event = 'request.rejected';
    outcome = facts.status >= 500 ? 'error' : 'deny';
  } else {
    event = facts.method === 'tools/call' ? 'tool.call' : 'request';
    if (code !== undefined) outcome = facts.status >= 500 ? 'error' : 'deny';
    else if (facts.toolOutcome) {
      outcome = facts.toolOutcome;
      reason = facts.toolReason;
    } else outcome = facts.status >= 500 ? 'error' : 'allow';
  }
  return {
    event,
    outcome,
    reason,
    principal: facts.principal ? auditPrincipal(facts.principal) : undefined,
    tool: facts.tool,
    method: facts.method,
    rpcId: facts.rpcId,
    argsHash: facts.argsHash,
    durationMs: facts.durationMs,
    ip: facts.ip,
    protocol: facts.protocol,
    requestId: facts.requestId,
  };
}

// One audit view per frozen principal (a verified token's, shared by its requests), so that the
// record encoder can keep its JSON too.
const views = new WeakMap<Principal, AuditPrincipal>();

/** The principal without anything secret: issuer, subject, client, method and key id. */
export function auditPrincipal(principal: Principal): AuditPrincipal {
  let view = views.get(principal);
  if (view === undefined) {
    view = Object.freeze({
      iss: principal.issuer,
      sub: principal.subject,
      client: principal.clientId,
      auth: principal.authMethod,
      keyId: principal.keyId,
    });
    if (Object.isFrozen(principal)) views.set(principal, view);
  }
  return view;
}
