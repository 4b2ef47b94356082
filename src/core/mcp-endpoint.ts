import type { Logger } from 'pino';
import { hashArguments } from '../audit/args-hash.js';
import type { AuditEntry, AuditOutcome } from '../audit/record.js';
import { type RequestFacts, requestEntry } from '../audit/request-entry.js';
import type { AuditSink } from '../audit/sink.js';
import type { Authenticate } from '../auth/authenticate.js';
import { type Principal, principalKey } from '../auth/principal.js';
import { classifyRequest } from '../protocol/classify.js';
import type { Dispatch, OutcomeListener } from '../protocol/dispatch.js';
import { type JsonRpcMessage, parseEnvelope } from '../protocol/envelope.js';
import type { SessionStore } from '../protocol/sessions.js';
import { type AuthGate, createAuthGate, isRateLimited } from '../ratelimit/auth-gate.js';
import type { ClientIpResolver } from '../ratelimit/client-ip.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import { type JsonLimits, parseJsonBody } from '../validation/json.js';
import type { AccessLog } from './access-log.js';
import { corsHeaders, NO_CORS, preflightHeaders } from './cors.js';
import { RampartError } from './errors.js';
import type { HeaderReader, InboundRequest, Reply } from './exchange.js';
import { acceptsJson, isJsonContentType } from './media-type.js';
import { checkOrigin, type OriginPolicy } from './origin.js';
import { errorResponse } from './respond.js';

/** Everything the MCP endpoint is built from; assembled once by `createRampart`. */
export interface McpEndpointOptions {
  readonly originPolicy: OriginPolicy;
  readonly authenticate: Authenticate;
  readonly dispatch: Dispatch;
  readonly sessions: SessionStore | undefined;
  readonly legacyEnabled: boolean;
  readonly maxBodyBytes: number;
  readonly jsonLimits: JsonLimits;
  readonly resourceMetadataUrl: string;
  readonly challengeScopes: readonly string[];
  readonly baseHeaders: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** A line per request, when `logging.requests` is on. */
  readonly accessLog: AccessLog | undefined;
  /** Finds the client address (socket, or X-Forwarded-For past trusted proxies). */
  readonly clientIp: ClientIpResolver;
  /**
   * The failed-authentication budget around credential checks; by default one over `rateLimiter`.
   * Give the one other routes that check credentials share, so its in-flight bookkeeping is one.
   */
  readonly authGate?: AuthGate | undefined;
  readonly rateLimiter: RateLimiter | undefined;
  /** The audit trail; a durable sink holds each answer until its record is stored. */
  readonly audit: AuditSink | undefined;
  /** Told of every finished request (metrics, detection). */
  readonly observe: ((entry: AuditEntry, facts: RequestFacts) => void) | undefined;
}

/**
 * What one request did: for the audit trail, the observers and the access log.
 *
 * A class with every field set in its constructor, so that all requests share one hidden class.
 * It was an object literal that gained fields as the request went on and was then spread into the
 * audit facts: that cost ~18 µs a request and got every request promoted by the young collector
 * (bench/run.mjs, rampart-metrics against rampart-core, 2026-11-29).
 */
class RequestRecord implements RequestFacts, OutcomeListener {
  ip: string | undefined = undefined;
  principal: Principal | undefined = undefined;
  rpcId: JsonRpcMessage['id'] | undefined = undefined;
  method: string | undefined = undefined;
  tool: string | undefined = undefined;
  era: string | undefined = undefined;
  protocol: string | undefined = undefined;
  argsHash: string | undefined = undefined;
  toolOutcome: AuditOutcome | undefined = undefined;
  toolReason: string | undefined = undefined;
  /** The error code of a refused request, and the reason behind it (logs only). */
  code: string | undefined = undefined;
  cause: string | undefined = undefined;
  status = 0;
  durationMs = 0;

  constructor(readonly requestId: string) {}

  noteOutcome(outcome: AuditOutcome, reason: string): void {
    this.toolOutcome = outcome;
    this.toolReason = reason;
  }
}

const ALLOWED_METHODS = 'POST, GET, DELETE, OPTIONS';

/** The most of a refused request's body read to find its JSON-RPC id. */
const PEEK_BYTES = 64 * 1024;

/**
 * The MCP endpoint, in fixed phases: receive (Origin/Host, media types) → authenticate → read and
 * parse the body within limits → protocol rules (era, mirrored headers, legacy session binding) →
 * dispatch (authorize, validate, call). Users configure phases; they cannot reorder them.
 */
export function createMcpEndpoint(options: McpEndpointOptions) {
  const { logger } = options;
  const authGate =
    options.authGate ?? (options.rateLimiter ? createAuthGate(options.rateLimiter) : undefined);
  const jsonHeaders: Record<string, string> = Object.freeze({
    ...options.baseHeaders,
    'content-type': 'application/json',
  }) as Record<string, string>;

  const recordsOutcomes = options.audit !== undefined || options.observe !== undefined;

  async function handle(request: InboundRequest, record: RequestRecord): Promise<Reply> {
    const headers = request.headers;
    checkOrigin(headers, request, options.originPolicy);
    const cors = corsHeaders(headers.get('origin'), options.originPolicy.allowedOrigins);
    const method = request.method;

    if (method === 'OPTIONS') {
      const origin = headers.get('origin');
      if (origin === null || !Object.hasOwn(cors, 'access-control-allow-origin')) {
        throw new RampartError('ERR_HTTP_ORIGIN_FORBIDDEN');
      }
      return {
        status: 204,
        headers: { ...options.baseHeaders, ...preflightHeaders(origin, ALLOWED_METHODS) },
        body: null,
      };
    }
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      throw new RampartError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { allow: ALLOWED_METHODS } });
    }

    // Every request is authenticated on its own, GET and DELETE included; a session id never is.
    const ip = options.clientIp(request.remoteAddress, headers.get('x-forwarded-for'));
    record.ip = ip;
    const limiter = options.rateLimiter;
    let principal: Principal;
    try {
      // The limiter answers at once from memory and with a promise from a shared store: only the
      // latter is awaited, so the common path takes no extra microtask turn.
      const authenticated = authGate
        ? authGate(ip, headers, options.authenticate)
        : options.authenticate(headers);
      principal = authenticated instanceof Promise ? await authenticated : authenticated;
    } catch (error) {
      // Refused before the body was read: read a small one for its id, so the client can match
      // the refusal to its request.
      if (isRateLimited(error)) record.rpcId = await peekRpcId(request);
      throw error;
    }
    record.principal = principal;
    if (limiter) {
      // Charged before anything else is read, so GETs, wrong media types and unreadable bodies
      // count too; a refusal reads a small body for its id, as above.
      try {
        const taken = limiter.takePrincipal(principal);
        if (taken) await taken;
      } catch (error) {
        record.rpcId = await peekRpcId(request);
        throw error;
      }
    }

    if (method === 'GET') {
      // No server-initiated stream: 2026-07-28 removed it, and 2025-11-25 allows 405 here.
      throw new RampartError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { allow: 'POST, DELETE, OPTIONS' } });
    }
    if (method === 'DELETE') return endSession(headers, principal, cors);

    if (!isJsonContentType(headers.get('content-type')))
      throw new RampartError('ERR_HTTP_UNSUPPORTED_MEDIA_TYPE');
    if (!acceptsJson(headers.get('accept'))) throw new RampartError('ERR_HTTP_NOT_ACCEPTABLE');

    const body = await request.readBody(options.maxBodyBytes);
    const message = parseEnvelope(parseJsonBody(body, options.jsonLimits));
    record.rpcId = message.id;
    record.method = message.method.slice(0, 128);
    if (message.method === 'tools/call' && typeof message.params?.name === 'string') {
      record.tool = message.params.name.slice(0, 128);
      if (options.audit) record.argsHash = hashArguments(message.params.arguments ?? {});
    }
    const classified = classifyRequest(message, headers, options.legacyEnabled);
    record.era = classified.era;
    record.protocol = classified.version || undefined;

    // Headers beyond the prepared ones (CORS, session id); the common answer has none and copies nothing.
    let extra: Record<string, string> | undefined = cors === NO_CORS ? undefined : { ...cors };
    if (classified.era === 'legacy') {
      const sessionId = headers.get('mcp-session-id');
      if (sessionId !== null && message.method !== 'initialize') {
        // Unknown, expired and someone else's sessions look the same: 404.
        if (!options.sessions?.get(sessionId, principalKey(principal))) {
          throw new RampartError('ERR_PROTOCOL_SESSION_NOT_FOUND');
        }
        extra = { ...extra, 'mcp-session-id': sessionId };
      }
    }

    const outcome = await options.dispatch({
      message,
      classified,
      principal,
      requestId: record.requestId,
      headers,
      // Only the audit trail and the observers read how a tool call ended.
      outcomes: recordsOutcomes ? record : undefined,
      signalSource: request,
    });
    if (outcome === undefined) {
      return {
        status: 202,
        headers: extra ? { ...options.baseHeaders, ...extra } : options.baseHeaders,
        body: null,
      };
    }
    if ('error' in outcome) {
      // A mounted server's refusal: its code and message, with this request's id for support.
      record.code = `rpc ${outcome.error.code}`;
      const error = {
        ...outcome.error,
        data: { ...asObject(outcome.error.data), requestId: record.requestId },
      };
      return {
        status: outcome.status,
        headers: extra ? { ...jsonHeaders, ...extra } : jsonHeaders,
        body: JSON.stringify({ jsonrpc: '2.0', id: message.id, error }),
      };
    }
    if (message.method === 'initialize' && options.sessions) {
      const version = String(outcome.result.protocolVersion);
      extra = { ...extra, 'mcp-session-id': options.sessions.create(principalKey(principal), version).id };
    }
    return {
      status: 200,
      headers: extra ? { ...jsonHeaders, ...extra } : jsonHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', id: message.id, result: outcome.result }),
    };
  }

  /** The JSON-RPC id of a POST body of up to 64 KiB, or undefined; never throws. */
  async function peekRpcId(request: InboundRequest): Promise<JsonRpcMessage['id'] | undefined> {
    if (request.method !== 'POST') return undefined;
    try {
      const body = await request.readBody(Math.min(options.maxBodyBytes, PEEK_BYTES));
      const message = parseJsonBody(body, options.jsonLimits);
      if (message === null || typeof message !== 'object' || Array.isArray(message)) return undefined;
      const id = (message as { id?: unknown }).id;
      return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : undefined;
    } catch {
      return undefined;
    }
  }

  function endSession(headers: HeaderReader, principal: Principal, cors: Record<string, string>): Reply {
    const sessionId = headers.get('mcp-session-id');
    if (sessionId === null || !options.sessions) {
      throw new RampartError('ERR_HTTP_METHOD_NOT_ALLOWED', { headers: { allow: 'POST, OPTIONS' } });
    }
    if (!options.sessions.delete(sessionId, principalKey(principal))) {
      throw new RampartError('ERR_PROTOCOL_SESSION_NOT_FOUND');
    }
    return { status: 204, headers: { ...options.baseHeaders, ...cors }, body: null };
  }

  return async function mcpEndpoint(request: InboundRequest): Promise<Reply> {
    const started = performance.now();
    const record = new RequestRecord(crypto.randomUUID());
    let response: Reply;
    try {
      response = await handle(request, record);
    } catch (error) {
      if (!(error instanceof RampartError) || error.status >= 500) {
        logger.error({ reqId: record.requestId, err: error }, 'request failed');
      }
      response = errorResponse(error, {
        requestId: record.requestId,
        rpcId: record.rpcId,
        // The revision classification settled on; before it (a header mismatch), the header.
        protocolVersion: record.protocol ?? request.headers.get('mcp-protocol-version'),
        resourceMetadataUrl: options.resourceMetadataUrl,
        challengeScopes: options.challengeScopes,
        headers: {
          ...options.baseHeaders,
          ...corsHeaders(request.headers.get('origin'), options.originPolicy.allowedOrigins),
        },
      });
      if (error instanceof RampartError) {
        record.code = error.code;
        record.cause = causeOf(error);
      } else {
        // The answer is a generic 500 whatever the tool had reported (say, a result that could not
        // be serialized): the record must not say the call went through.
        record.code = 'ERR_INTERNAL';
      }
    }
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    if (options.audit || options.observe) {
      record.status = response.status;
      record.durationMs = durationMs;
      const entry = requestEntry(record);
      options.observe?.(entry, record);
      const stored = options.audit?.append(entry);
      if (stored) {
        try {
          await stored;
        } catch (error) {
          // Fail closed: an answer whose record cannot be kept is not given.
          logger.error({ reqId: record.requestId, err: error }, 'audit record not stored');
          response = errorResponse(new RampartError('ERR_UNAVAILABLE'), {
            requestId: record.requestId,
            rpcId: record.rpcId,
            resourceMetadataUrl: options.resourceMetadataUrl,
            challengeScopes: options.challengeScopes,
            headers: options.baseHeaders,
          });
        }
      }
    }
    options.accessLog?.(record, response.status, durationMs);
    return response;
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function causeOf(error: RampartError): string | undefined {
  const cause = error.cause;
  if (cause === undefined) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message.slice(0, 200);
  return undefined;
}
