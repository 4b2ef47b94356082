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
}

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
      code: err.info.rpc,
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
