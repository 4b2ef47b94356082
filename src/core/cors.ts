/** Request headers a browser MCP client sends. */
const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'accept',
  'x-api-key',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'mcp-session-id',
  'last-event-id',
].join(', ');

/** Response headers a browser MCP client must be able to read. */
const EXPOSE_HEADERS = ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate', 'retry-after'].join(
  ', ',
);

/** What {@link corsHeaders} returns for a request without an allowed Origin: one shared empty object. */
export const NO_CORS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * CORS headers for an allowed origin, or none. Never `*`, never `Allow-Credentials`: credentials
 * travel in the Authorization header, which CORS already gates by `Allow-Headers`.
 */
export function corsHeaders(origin: string | null, allowed: ReadonlySet<string>): Record<string, string> {
  if (origin === null || !allowed.has(origin.toLowerCase())) return NO_CORS;
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSE_HEADERS,
    vary: 'Origin',
  };
}

/** Headers of a successful preflight answer. */
export function preflightHeaders(origin: string, methods: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': methods,
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}
