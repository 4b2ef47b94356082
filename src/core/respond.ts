import { buildBearerChallenge } from '../auth/challenge.js';
import type { JsonRpcId } from '../protocol/envelope.js';
import { RampartError } from './errors.js';
import type { Reply } from './exchange.js';

/** What the error mapper needs to know about the request and the server. */
export interface ErrorResponseContext {
  readonly requestId: string;
  readonly rpcId?: JsonRpcId | undefined;
  readonly resourceMetadataUrl: string;
  /** Scopes named in a 401 challenge. */
  readonly challengeScopes: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The request's protocol revision (as classified, else its `MCP-Protocol-Version` header), when
   * known. A client of a revision before
   * 2026-07-28 does not know the codes that revision reserved (-32020..-32099): it gets the classic
   * Invalid Request (-32600) for them; the HTTP status and `data.code` still say which error it was.
   */
  readonly protocolVersion?: string | null | undefined;
}

/** The first revision whose error codes -32020..-32099 a client may know. */
const RESERVED_CODES_SINCE = '2026-07-28';

/**
 * The one place that turns an error into a wire response: a JSON-RPC error body (with the request
 * id when known), the HTTP status of its code, and the RFC 6750 challenge for 401 and
 * insufficient-scope 403. Anything that is not a RampartError leaves as `ERR_INTERNAL` with only
 * the request id; its details stay in the server log.
 */
export function errorResponse(error: unknown, ctx: ErrorResponseContext): Reply {
  const err = error instanceof RampartError ? error : new RampartError('ERR_INTERNAL', { cause: error });
  const headers: Record<string, string> = { ...ctx.headers, 'content-type': 'application/json' };
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) headers[k.toLowerCase()] = v;
  const challenge = challengeFor(err, ctx);
  if (challenge) headers['www-authenticate'] = challenge;
  const body = {
    jsonrpc: '2.0',
    ...(ctx.rpcId !== undefined ? { id: ctx.rpcId } : {}),
    error: {
      code: rpcCodeFor(err.info.rpc, ctx.protocolVersion),
      message: err.message,
      data: { ...err.data, code: err.code, requestId: ctx.requestId },
    },
  };
  return { status: err.status, headers, body: JSON.stringify(body) };
}

function challengeFor(err: RampartError, ctx: ErrorResponseContext): string | undefined {
  const base = { resourceMetadataUrl: ctx.resourceMetadataUrl };
  switch (err.code) {
    case 'ERR_AUTH_REQUIRED':
      // RFC 6750 §3.1: no error code when the request carried no credential.
      return buildBearerChallenge({ ...base, scopes: ctx.challengeScopes });
    case 'ERR_AUTH_INVALID_TOKEN':
      return buildBearerChallenge({
        ...base,
        scopes: ctx.challengeScopes,
        error: 'invalid_token',
        errorDescription: err.info.message,
      });
    case 'ERR_AUTH_INVALID_REQUEST':
    case 'ERR_AUTH_MULTIPLE_CREDENTIALS':
      return buildBearerChallenge({ ...base, error: 'invalid_request', errorDescription: err.info.message });
    case 'ERR_AUTHZ_INSUFFICIENT_SCOPE': {
      const required = err.data?.requiredScopes;
      return buildBearerChallenge({
        ...base,
        scopes: Array.isArray(required) ? (required as string[]) : [],
        error: 'insufficient_scope',
        errorDescription: err.info.message,
      });
    }
    default:
      return undefined;
  }
}

/** The JSON-RPC code for a client of `version`: revisions are dates, so they compare as strings. */
function rpcCodeFor(code: number, version: string | null | undefined): number {
  const older = version === undefined || version === null || version < RESERVED_CODES_SINCE;
  return older && code <= -32020 && code >= -32099 ? -32600 : code;
}
