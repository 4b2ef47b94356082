/**
 * The events of the audit trail. Every MCP request leaves exactly one record; key and user
 * management and detection leave their own. See docs/audit.md (kept in step by a test).
 */
export const AUDIT_EVENTS = {
  'auth.failure': 'A credential was missing, malformed, unknown, expired or revoked.',
  'rate.limited': 'A request was refused by a rate limit.',
  'authz.denied': 'An authenticated caller lacked the scope or role for a tool or method.',
  'tool.call': 'A tool was called (whatever came of it: see outcome).',
  request: 'Any other authenticated MCP request (tools/list, initialize, server/discover, …).',
  'request.rejected': 'A request refused by the boundary before or outside the cases above.',
  'key.created': 'An API key was created.',
  'key.rotated': 'An API key was rotated (the old one keeps working for the grace period).',
  'key.revoked': 'An API key was revoked.',
  'user.created': 'A user was created.',
  'user.updated': 'A user’s roles were changed.',
  'user.removed': 'A user was removed and all of its keys revoked.',
  alert:
    'The detector saw an address or principal cross a threshold (detail says which, how many, in what window).',
  checkpoint: 'A keyed checkpoint over the chain so far.',
  'log.rotated': 'The first record of a log file after rotation; detail.previous names the file before it.',
  'oauth.key.rotated': 'The authorization server got a new signing key (detail: its kid).',
  'oauth.client.registered':
    'A client registered itself with the authorization server (detail: client id, name, redirect URIs).',
  'oauth.login.failed': 'A wrong user or password on the login page (detail: the client; the user as typed).',
  'oauth.grant.approved': 'A user approved a client (detail: grant, client, scopes).',
  'oauth.grant.denied': 'A user denied a client, or gave up after failed sign-ins (detail: client).',
  'oauth.grant.revoked':
    'A grant and every token issued from it were revoked (detail: grant, client, why: revoked by its client, code replayed, refresh token reused, …).',
} as const;

/** Every field a record may have, in the order docs/audit.md lists them. */
export const AUDIT_FIELDS = {
  seq: 'Position in the log, from 1; rises by one per record.',
  ts: 'UTC time, ISO 8601 with milliseconds.',
  event: 'What happened: one of the events above.',
  outcome: '`allow`, `deny` or `error`.',
  reason:
    'A stable code: the `ERR_*` of a refusal, or `ok`, `invalid_arguments`, `denied_by_rule`, `tool_error`, `tool_failed` for tool calls.',
  principal:
    'Who: `iss` (issuer; `rampart` for API keys, `local` for the CLI), `sub`, `client`, `auth` (`api_key`, `jwt`, `cli`), `keyId`. Never a key or token.',
  tool: 'The tool called (tools/call).',
  method: 'The JSON-RPC method.',
  rpcId: 'The JSON-RPC id of the request.',
  argsHash:
    'SHA-256 of the canonical JSON of the arguments, with the values of secret-looking names (password, token, api_key, …) replaced first. Never the arguments.',
  durationMs: 'Time spent in the endpoint, in milliseconds.',
  ip: 'The client address (socket, or X-Forwarded-For past trusted proxies; `unresolved` when that chain cannot be read).',
  protocol: 'The MCP revision of the request.',
  requestId: 'The request id, also in the server log and in error responses.',
  detail: 'Admin actions: the key id, name, user, scopes, grace period and the like.',
  keyId: 'Checkpoints: the id of the checkpoint key (first 16 hex digits of its SHA-256).',
  mac: 'Checkpoints: HMAC-SHA256 under the checkpoint key of `seq:hash` of the record before.',
  prev: 'The `hash` of the record before (64 zeros for the first).',
  hash: 'SHA-256 of the canonical JSON (keys sorted) of every other field of the record.',
} as const;

/** An audit event name. */
export type AuditEvent = keyof typeof AUDIT_EVENTS;

/** How it ended. */
export type AuditOutcome = 'allow' | 'deny' | 'error';

/** Who acted, as the audit trail records it: never the credential. */
export interface AuditPrincipal {
  readonly iss: string;
  readonly sub: string;
  readonly client?: string | undefined;
  /** `api_key` or `jwt`. */
  readonly auth: string;
  readonly keyId?: string | undefined;
}

/** One record before it is sealed into the chain. */
export interface AuditEntry {
  readonly event: AuditEvent;
  readonly outcome: AuditOutcome;
  /** A stable code (`ERR_*`, or a short word such as `tool_error`). */
  readonly reason?: string | undefined;
  readonly principal?: AuditPrincipal | undefined;
  readonly tool?: string | undefined;
  /** The JSON-RPC method. */
  readonly method?: string | undefined;
  readonly rpcId?: string | number | undefined;
  /** SHA-256 of the canonical arguments (secret-looking values replaced first). */
  readonly argsHash?: string | undefined;
  readonly durationMs?: number | undefined;
  readonly ip?: string | undefined;
  readonly protocol?: string | undefined;
  readonly requestId?: string | undefined;
  /** Event-specific details, for admin actions (key id, name, scopes…). Never secrets. */
  readonly detail?: Readonly<Record<string, unknown>> | undefined;
}

/** A sealed record as it is stored: the entry plus its place in the chain. */
export interface AuditRecord extends AuditEntry {
  /** Position in the log, from 1. */
  readonly seq: number;
  /** UTC time, ISO 8601 with milliseconds. */
  readonly ts: string;
  /** The hash of the record before it (64 zeros for the first). */
  readonly prev: string;
  /** SHA-256 over the canonical JSON of every other field. */
  readonly hash: string;
  /** On checkpoints: the key id and the HMAC of `prev`. */
  readonly keyId?: string;
  readonly mac?: string;
}
