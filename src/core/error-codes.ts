/**
 * Every error Rampart can send to a client, by stable code.
 *
 * A code is never reused or renamed once released; `docs/errors.md` is checked against this table
 * by a test. `status` is the HTTP status, `rpc` the JSON-RPC error code where the error is sent as a
 * JSON-RPC error, `oauth` the RFC 6750 `error` value where a `WWW-Authenticate` challenge is sent.
 * `message` is the fixed, client-safe text: it never contains input, tokens or internals.
 */
export const ERROR_CODES = {
  // Transport: checked before the body is read.
  ERR_HTTP_ORIGIN_FORBIDDEN: { status: 403, rpc: -32600, message: 'Origin not allowed' },
  ERR_HTTP_HOST_FORBIDDEN: { status: 403, rpc: -32600, message: 'Host not allowed' },
  ERR_HTTP_METHOD_NOT_ALLOWED: { status: 405, rpc: -32600, message: 'HTTP method not allowed' },
  ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    rpc: -32600,
    message: 'Content-Type must be application/json',
  },
  ERR_HTTP_NOT_ACCEPTABLE: {
    status: 406,
    rpc: -32600,
    message: 'Accept must include application/json and text/event-stream',
  },
  ERR_HTTP_BODY_TOO_LARGE: { status: 413, rpc: -32600, message: 'Request body too large' },
  ERR_HTTP_NOT_FOUND: { status: 404, rpc: -32600, message: 'Not found' },

  // The body: UTF-8, JSON and the JSON-RPC envelope.
  ERR_REQUEST_INVALID_UTF8: { status: 400, rpc: -32700, message: 'Parse error: body is not valid UTF-8' },
  ERR_REQUEST_INVALID_JSON: { status: 400, rpc: -32700, message: 'Parse error: body is not valid JSON' },
  ERR_REQUEST_TOO_DEEP: { status: 400, rpc: -32600, message: 'Invalid request: JSON nested too deeply' },
  ERR_REQUEST_TOO_MANY_ELEMENTS: {
    status: 400,
    rpc: -32600,
    message: 'Invalid request: JSON has too many elements',
  },
  ERR_REQUEST_STRING_TOO_LONG: {
    status: 400,
    rpc: -32600,
    message: 'Invalid request: JSON string or key too long',
  },
  ERR_REQUEST_NUMBER_OUT_OF_RANGE: {
    status: 400,
    rpc: -32600,
    message: 'Invalid request: JSON number out of range (beyond ±1.8e308)',
  },
  ERR_REQUEST_DUPLICATE_KEY: { status: 400, rpc: -32600, message: 'Invalid request: duplicate JSON key' },
  ERR_REQUEST_FORBIDDEN_KEY: {
    status: 400,
    rpc: -32600,
    message: 'Invalid request: forbidden JSON key (__proto__, constructor or prototype)',
  },
  ERR_REQUEST_BATCH_UNSUPPORTED: {
    status: 400,
    rpc: -32600,
    message: 'Invalid request: JSON-RPC batches are not supported',
  },
  ERR_REQUEST_INVALID_ENVELOPE: {
    status: 400,
    rpc: -32600,
    message: 'Invalid request: not a JSON-RPC 2.0 request or notification',
  },

  // MCP protocol rules.
  ERR_PROTOCOL_HEADER_MISMATCH: {
    status: 400,
    rpc: -32020,
    message: 'Header mismatch: MCP headers do not match the request body',
  },
  ERR_PROTOCOL_UNSUPPORTED_VERSION: { status: 400, rpc: -32022, message: 'Unsupported protocol version' },
  ERR_PROTOCOL_MISSING_META: {
    status: 400,
    rpc: -32602,
    message: 'Invalid params: _meta must carry protocolVersion and clientCapabilities',
  },
  ERR_PROTOCOL_METHOD_NOT_FOUND: { status: 404, rpc: -32601, message: 'Method not found' },
  ERR_PROTOCOL_INVALID_PARAMS: { status: 400, rpc: -32602, message: 'Invalid params' },
  ERR_PROTOCOL_SESSION_NOT_FOUND: { status: 404, rpc: -32600, message: 'Session not found' },
  ERR_PROTOCOL_UNKNOWN_TOOL: { status: 200, rpc: -32602, message: 'Unknown tool' },

  // Authentication (RFC 6750): one message for unknown, revoked and expired credentials alike.
  ERR_AUTH_REQUIRED: { status: 401, rpc: -31401, message: 'Authentication required' },
  ERR_AUTH_INVALID_TOKEN: {
    status: 401,
    rpc: -31401,
    oauth: 'invalid_token',
    message: 'The access token or API key is invalid',
  },
  ERR_AUTH_INVALID_REQUEST: {
    status: 400,
    rpc: -31400,
    oauth: 'invalid_request',
    message: 'Malformed credentials',
  },
  ERR_AUTH_MULTIPLE_CREDENTIALS: {
    status: 400,
    rpc: -31400,
    oauth: 'invalid_request',
    message: 'Send exactly one credential: Authorization or X-API-Key, not both',
  },

  // Authorization.
  ERR_AUTHZ_INSUFFICIENT_SCOPE: {
    status: 403,
    rpc: -31403,
    oauth: 'insufficient_scope',
    message: 'Insufficient scope for this operation',
  },
  ERR_AUTHZ_FORBIDDEN: { status: 403, rpc: -31403, message: 'Forbidden' },

  // Rate limits. -31429 lies outside JSON-RPC's reserved -32768..-32000, so it is legal in every
  // MCP revision (2026-07-28 retires -32000..-32019 and reserves -32020..-32099 for the protocol).
  ERR_RATE_LIMITED: { status: 429, rpc: -31429, message: 'Too many requests: retry after the given seconds' },

  // Tool arguments refused by the data layer (src/data): sent as tool errors, so HTTP 200.
  ERR_TOOL_INVALID_ARGUMENT: { status: 200, rpc: -32602, message: 'Invalid tool arguments' },
  ERR_TOOL_PATH_REFUSED: { status: 200, rpc: -32602, message: 'File path refused' },

  // Anything else: never exposed beyond this text and the request id.
  ERR_INTERNAL: { status: 500, rpc: -32603, message: 'Internal error' },
  ERR_UNAVAILABLE: { status: 503, rpc: -32603, message: 'Service unavailable' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** What one error code means on the wire. */
export interface ErrorCodeInfo {
  readonly status: number;
  readonly rpc: number;
  readonly message: string;
  readonly oauth?: string;
}

/** A stable Rampart error code, such as `ERR_AUTH_INVALID_TOKEN`. */
export type ErrorCode = keyof typeof ERROR_CODES;
