/** Builds a modern (2026-07-28) MCP POST with mirrored headers, as a conforming client sends it. */
export function modernRequest(
  url: string,
  credential: string | undefined,
  method: string,
  params: Record<string, unknown> = {},
  options: { id?: number | string; headers?: Record<string, string> } = {},
): Request {
  const body = {
    jsonrpc: '2.0',
    id: options.id ?? 1,
    method,
    params: {
      ...params,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'rampart-tests', version: '1' },
      },
    },
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': method,
  };
  if (typeof params.name === 'string') headers['mcp-name'] = params.name;
  if (credential) headers.authorization = `Bearer ${credential}`;
  return new Request(url, {
    method: 'POST',
    headers: { ...headers, ...options.headers },
    body: JSON.stringify(body),
  });
}

/** Builds a legacy (2025-era) MCP POST. */
export function legacyRequest(
  url: string,
  credential: string | undefined,
  method: string,
  params: Record<string, unknown> = {},
  options: { id?: number | string | null; headers?: Record<string, string>; version?: string } = {},
): Request {
  const body: Record<string, unknown> = { jsonrpc: '2.0', method, params };
  if (options.id !== null) body.id = options.id ?? 1;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (method !== 'initialize') headers['mcp-protocol-version'] = options.version ?? '2025-11-25';
  if (credential) headers.authorization = `Bearer ${credential}`;
  return new Request(url, {
    method: 'POST',
    headers: { ...headers, ...options.headers },
    body: JSON.stringify(body),
  });
}

/** Calls a tool the modern way and returns the parsed JSON-RPC body and the response. */
export async function callTool(
  url: string,
  credential: string,
  name: string,
  args: Record<string, unknown>,
): Promise<{ status: number; body: { result?: Record<string, unknown>; error?: Record<string, unknown> } }> {
  const response = await fetch(modernRequest(url, credential, 'tools/call', { name, arguments: args }));
  return { status: response.status, body: (await response.json()) as never };
}
