import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';
import { callTool, legacyRequest, modernRequest } from '../helpers/mcp.js';

let server: DemoServer;
beforeAll(async () => {
  server = await startDemoServer({ server: { allowedOrigins: ['https://app.example.com'] } });
});
afterAll(async () => {
  await server?.stop();
});

/** A raw HTTP request, for headers fetch will not let us set (Host) or bodies it would fix up. */
function raw(
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'POST',
        headers: options.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The `rows` of a tool's structured result; fails the test when there are none. */
function rowsOf<T>(body: { result?: Record<string, unknown> }): T {
  const structured = body.result?.structuredContent as { rows?: T } | undefined;
  if (!structured?.rows) throw new Error(`no rows in ${JSON.stringify(body)}`);
  return structured.rows;
}

const jsonHeaders = (key: string) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: `Bearer ${key}`,
});

describe('authentication (RFC 6750, RFC 9728)', () => {
  it('answers a request without credentials with 401 and a challenge without error', async () => {
    const res = await fetch(modernRequest(server.mcpUrl, undefined, 'tools/list'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer scope="mcp:read", resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    const body = await res.json();
    expect(body.error).toMatchObject({ code: -31401, data: { code: 'ERR_AUTH_REQUIRED' } });
  });

  it('answers unknown, revoked and expired keys identically with invalid_token', async () => {
    const revoked = await server.mintKey('carol', ['mcp:read']);
    const expired = await server.mintKey('carol', ['mcp:read'], { expiresAt: Date.now() + 50 });
    const { openKeyStore } = await import('../../src/stores/key-store.js');
    const store = await openKeyStore(`${server.dataDir}/rampart.db`);
    await store.keys.revokeKey(revoked.id);
    await store.close();
    await new Promise((r) => setTimeout(r, 100));
    const unknown = `rmp_${'A'.repeat(43)}`;
    const answers = [];
    for (const key of [unknown, revoked.key, expired.key]) {
      const res = await fetch(modernRequest(server.mcpUrl, key, 'tools/list'));
      const body = await res.json();
      delete body.error.data.requestId;
      answers.push({ status: res.status, challenge: res.headers.get('www-authenticate'), body });
    }
    expect(answers[0]?.status).toBe(401);
    expect(answers[0]?.challenge).toContain('error="invalid_token"');
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('accepts X-API-Key', async () => {
    const req = modernRequest(
      server.mcpUrl,
      undefined,
      'tools/list',
      {},
      { headers: { 'x-api-key': server.keys.reader } },
    );
    expect((await fetch(req)).status).toBe(200);
  });

  it('refuses two credentials at once with 400 invalid_request', async () => {
    const req = modernRequest(
      server.mcpUrl,
      server.keys.reader,
      'tools/list',
      {},
      { headers: { 'x-api-key': server.keys.reader } },
    );
    const res = await fetch(req);
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('never reads a credential from the query string', async () => {
    const res = await fetch(
      modernRequest(
        `${server.mcpUrl}?access_token=${server.keys.admin}&api_key=${server.keys.admin}`,
        undefined,
        'tools/list',
      ),
    );
    expect(res.status).toBe(401);
  });

  it('refuses other authorization schemes', async () => {
    const res = await fetch(
      modernRequest(server.mcpUrl, undefined, 'tools/list', {}, { headers: { authorization: 'Basic YTpi' } }),
    );
    expect(res.status).toBe(400);
  });

  it('serves RFC 9728 metadata at the path-aware and root well-known URLs', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource: `${server.url}/mcp`,
        scopes_supported: ['mcp:read', 'mcp:write', 'mcp:admin'],
        bearer_methods_supported: ['header'],
        resource_name: 'rampart',
      });
    }
  });
});

describe('Origin, Host and CORS', () => {
  it('refuses a foreign Origin with 403', async () => {
    const res = await fetch(
      modernRequest(
        server.mcpUrl,
        server.keys.reader,
        'tools/list',
        {},
        { headers: { origin: 'https://evil.example' } },
      ),
    );
    expect(res.status).toBe(403);
    expect((await res.json()).error.data.code).toBe('ERR_HTTP_ORIGIN_FORBIDDEN');
  });

  it('refuses a rebinding Host with 403', async () => {
    const res = await raw('/mcp', {
      headers: { ...jsonHeaders(server.keys.reader), host: 'evil.example:80' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error.data.code).toBe('ERR_HTTP_HOST_FORBIDDEN');
  });

  it('allows localhost as Host on a loopback bind', async () => {
    const port = new URL(server.url).port;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const res = await raw('/mcp', {
      headers: { ...jsonHeaders(server.keys.reader), host: `localhost:${port}` },
      body,
    });
    expect(res.status).toBe(200);
  });

  it('answers a preflight from an allowed origin, never with *', async () => {
    const res = await fetch(server.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses a preflight from another origin', async () => {
    const res = await fetch(server.mcpUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes MCP headers to an allowed origin', async () => {
    const res = await fetch(
      modernRequest(
        server.mcpUrl,
        server.keys.reader,
        'tools/list',
        {},
        { headers: { origin: 'https://app.example.com' } },
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
  });

  it('sends no framework or version banner', async () => {
    const res = await fetch(modernRequest(server.mcpUrl, server.keys.reader, 'tools/list'));
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('server')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('request limits and parsing', () => {
  const post = (body: Buffer | string, headers: Record<string, string> = {}) =>
    raw('/mcp', { headers: { ...jsonHeaders(server.keys.reader), ...headers }, body });

  it.each([
    ['invalid JSON', '{"jsonrpc":', 400, -32700, 'ERR_REQUEST_INVALID_JSON'],
    [
      'invalid UTF-8',
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      400,
      -32700,
      'ERR_REQUEST_INVALID_UTF8',
    ],
    [
      'duplicate keys',
      '{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}',
      400,
      -32600,
      'ERR_REQUEST_DUPLICATE_KEY',
    ],
    [
      'a __proto__ key',
      '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"__proto__":{"x":1}}}',
      400,
      -32600,
      'ERR_REQUEST_FORBIDDEN_KEY',
    ],
    [
      'deep nesting',
      `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":${'['.repeat(200)}${']'.repeat(200)}}}`,
      400,
      -32600,
      'ERR_REQUEST_TOO_DEEP',
    ],
    ['a batch', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 400, -32600, 'ERR_REQUEST_BATCH_UNSUPPORTED'],
    ['a response', '{"jsonrpc":"2.0","id":1,"result":{}}', 400, -32600, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['an empty body', '', 400, -32700, 'ERR_REQUEST_INVALID_JSON'],
  ])('answers %s with %i', async (_name, body, status, rpc, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body).error).toMatchObject({ code: rpc, data: { code } });
  });

  it('refuses a body over 1 MiB with 413, declared or streamed', async () => {
    const big = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(1_100_000)}"}}`;
    expect((await post(big)).status).toBe(413);
    expect((await post(big, { 'transfer-encoding': 'chunked' })).status).toBe(413);
  });

  it('refuses two Authorization headers, though Node keeps only the first of them', async () => {
    const res = await raw('/mcp', {
      headers: {
        ...jsonHeaders(server.keys.admin),
        authorization: [`Bearer ${server.keys.admin}`, `Bearer ${server.keys.reader}`],
      },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.data.code).toBe('ERR_AUTH_INVALID_REQUEST');
  });

  it('serves the endpoint with a query string, and nothing at look-alike paths', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    const headers = { ...jsonHeaders(server.keys.reader), 'mcp-protocol-version': '2025-11-25' };
    expect((await raw('/mcp?x=1', { headers, body })).status).toBe(200);
    expect((await raw('/mcp/', { headers, body })).status).toBe(404);
    expect((await raw('/mcpx', { headers, body })).status).toBe(404);
  });

  it('refuses a wrong Content-Type with 415 and an Accept without JSON with 406', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    expect((await post(body, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(body, { accept: 'text/html' })).status).toBe(406);
  });

  it('answers GET with 405 after authenticating, and unauthenticated GET with 401', async () => {
    expect(
      (await fetch(server.mcpUrl, { headers: { authorization: `Bearer ${server.keys.reader}` } })).status,
    ).toBe(405);
    expect((await fetch(server.mcpUrl)).status).toBe(401);
  });
});

describe('MCP 2026-07-28 rules', () => {
  it('refuses mismatched Mcp-Name with 400 HeaderMismatch (-32020)', async () => {
    const req = modernRequest(
      server.mcpUrl,
      server.keys.admin,
      'tools/call',
      { name: 'whoami', arguments: {} },
      { headers: { 'mcp-name': 'list_items' } },
    );
    const res = await fetch(req);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: -32020 });
  });

  it('answers an unsupported version with -32022 and the supported list', async () => {
    const req = modernRequest(server.mcpUrl, server.keys.reader, 'tools/list');
    const body = JSON.parse(await req.text());
    body.params._meta['io.modelcontextprotocol/protocolVersion'] = '2099-01-01';
    const res = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { ...Object.fromEntries(req.headers), 'mcp-protocol-version': '2099-01-01' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: -32022,
      data: { supported: expect.arrayContaining(['2026-07-28', '2025-11-25']) },
    });
  });

  it('gives a 2025-era client the classic -32600 for the codes 2026-07-28 reserved', async () => {
    const mismatch = legacyRequest(
      server.mcpUrl,
      server.keys.admin,
      'tools/call',
      { name: 'whoami', arguments: {} },
      { version: '2025-06-18', headers: { 'mcp-method': 'tools/list' } },
    );
    const res = await fetch(mismatch);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: -32600,
      data: { code: 'ERR_PROTOCOL_HEADER_MISMATCH' },
    });
    const old = legacyRequest(server.mcpUrl, server.keys.reader, 'tools/list', {}, { version: '2024-11-05' });
    const unsupported = await fetch(old);
    expect(unsupported.status).toBe(400);
    expect((await unsupported.json()).error).toMatchObject({
      code: -32600,
      data: { code: 'ERR_PROTOCOL_UNSUPPORTED_VERSION' },
    });
  });

  it('answers an unknown method with 404 -32601', async () => {
    const res = await fetch(modernRequest(server.mcpUrl, server.keys.reader, 'resources/list'));
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe(-32601);
  });

  it('serves server/discover with cache hints', async () => {
    const res = await fetch(modernRequest(server.mcpUrl, server.keys.reader, 'server/discover'));
    const { result } = await res.json();
    expect(result).toMatchObject({
      resultType: 'complete',
      supportedVersions: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'],
      capabilities: { tools: {} },
      cacheScope: 'public',
      ttlMs: expect.any(Number),
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'rampart' } },
    });
  });
});

describe('authorization', () => {
  it('lists only the tools a caller may call, as private', async () => {
    const list = async (key: string) => {
      const { result } = await (await fetch(modernRequest(server.mcpUrl, key, 'tools/list'))).json();
      return result;
    };
    const reader = await list(server.keys.reader);
    expect(reader.tools.map((t: { name: string }) => t.name).sort()).toEqual([
      'list_items',
      'query_data',
      'read_file',
      'whoami',
    ]);
    expect(reader).toMatchObject({ cacheScope: 'private', resultType: 'complete' });
    const admin = await list(server.keys.admin);
    expect(admin.tools.map((t: { name: string }) => t.name)).toContain('purge_all');
  });

  it('answers a call without the scope with 403 insufficient_scope naming the scope', async () => {
    const res = await fetch(
      modernRequest(server.mcpUrl, server.keys.reader, 'tools/call', {
        name: 'delete_item',
        arguments: { table: 'orders', id: 1 },
      }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="Insufficient scope for this operation", scope="mcp:write", resource_metadata="${server.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect((await res.json()).id).toBe(1);
  });

  it('refuses an admin tool to a user with mcp:admin but without the admin role', async () => {
    const bobAdmin = await server.mintKey('bob', ['mcp:admin']);
    const res = await fetch(
      modernRequest(server.mcpUrl, bobAdmin.key, 'tools/call', {
        name: 'purge_all',
        arguments: { table: 'orders', confirm: true },
      }),
    );
    expect(res.status).toBe(403);
    expect((await res.json()).error.data.code).toBe('ERR_AUTHZ_FORBIDDEN');
  });

  it('answers an unknown tool with -32602', async () => {
    const { status, body } = await callTool(server.mcpUrl, server.keys.reader, 'nope', {});
    expect(status).toBe(200);
    expect(body.error).toMatchObject({ code: -32602, message: 'Unknown tool' });
  });
});

describe('tools: validation and data-level filtering', () => {
  it('returns validation failures as tool errors that echo no input', async () => {
    const payload = "x'; DROP TABLE users; --";
    const { body } = await callTool(server.mcpUrl, server.keys.reader, 'list_items', { table: payload });
    expect(body.result).toMatchObject({ isError: true });
    expect(JSON.stringify(body)).not.toContain('DROP');
  });

  it('refuses unknown argument keys', async () => {
    const { body } = await callTool(server.mcpUrl, server.keys.reader, 'list_items', {
      table: 'orders',
      owner: 'alice',
    });
    expect(body.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'Invalid arguments: (arguments): has unknown properties' }],
    });
  });

  it('returns only the caller’s rows and never internal columns', async () => {
    const { body } = await callTool(server.mcpUrl, server.keys.reader, 'list_items', { table: 'orders' });
    const rows = rowsOf<Record<string, unknown>[]>(body);
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/internal|alice/);
  });

  it('binds SQL injection payloads as values and matches LIKE wildcards literally', async () => {
    const products = async (value: string) => {
      const { body } = await callTool(server.mcpUrl, server.keys.reader, 'query_data', {
        table: 'orders',
        filters: [{ column: 'product', operator: 'like', value }],
      });
      expect(body.result?.isError).not.toBe(true);
      return rowsOf<{ product: string }[]>(body).map((r) => r.product);
    };
    expect(await products("' OR 1=1 --")).toEqual([]);
    expect(await products("Widget' UNION SELECT internal_margin FROM orders --")).toEqual([]);
    expect(await products('%')).toEqual(['Gadget 100%']);
    expect(await products('_')).toEqual(['snake_case tool']);
    expect(await products('Widget')).toEqual(['Widget']);
  });

  it('lets a user delete only its own rows', async () => {
    const { body: aliceRows } = await callTool(server.mcpUrl, server.keys.admin, 'list_items', {
      table: 'orders',
    });
    const aliceId = rowsOf<{ id: number }[]>(aliceRows)[0]?.id as number;
    const bobWriter = await server.mintKey('bob', ['mcp:write']);
    const { body } = await callTool(server.mcpUrl, bobWriter.key, 'delete_item', {
      table: 'orders',
      id: aliceId,
    });
    expect(body.result?.structuredContent).toMatchObject({ deleted: false });
    const { body: again } = await callTool(server.mcpUrl, server.keys.admin, 'list_items', {
      table: 'orders',
    });
    expect(rowsOf<{ id: number }[]>(again).map((r) => r.id)).toContain(aliceId);
  });

  it.each([
    '../package.json',
    '%2e%2e/package.json',
    '/etc/passwd',
    'guides/../../../package.json',
    'welcome.md\u0000.txt',
  ])('refuses read_file(%j)', async (path) => {
    const { body } = await callTool(server.mcpUrl, server.keys.reader, 'read_file', { path });
    expect(body.result).toMatchObject({ isError: true });
    expect(JSON.stringify(body)).not.toContain('"name": "rampart');
  });

  it('reads a docs file', async () => {
    const { body } = await callTool(server.mcpUrl, server.keys.reader, 'read_file', {
      path: 'guides/scopes.md',
    });
    expect(JSON.stringify(body.result)).toContain('Scopes in the demo');
  });
  it('shows admins the audit trail through audit_tail, and nobody else', async () => {
    await callTool(server.mcpUrl, server.keys.reader, 'delete_item', { table: 'orders', id: 1 });
    const { body } = await callTool(server.mcpUrl, server.keys.admin, 'audit_tail', {
      lines: 5,
      outcome: 'deny',
    });
    const structured = body.result?.structuredContent as { records: Record<string, unknown>[] } | undefined;
    const records = structured?.records ?? [];
    expect(records.length).toBeGreaterThan(0);
    expect(records.at(-1)).toMatchObject({
      event: 'authz.denied',
      tool: 'delete_item',
      principal: { sub: 'bob' },
    });
    const denied = await callTool(server.mcpUrl, server.keys.reader, 'audit_tail', {});
    expect(denied.status).toBe(403);
  });
});

describe('legacy sessions (2025-11-25)', () => {
  it('binds a session to the principal that opened it', async () => {
    const init = await fetch(
      legacyRequest(server.mcpUrl, server.keys.reader, 'initialize', {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      }),
    );
    expect(init.status).toBe(200);
    expect((await init.json()).result.protocolVersion).toBe('2025-11-25');
    const sessionId = init.headers.get('mcp-session-id') as string;
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const own = await fetch(
      legacyRequest(
        server.mcpUrl,
        server.keys.reader,
        'tools/list',
        {},
        { headers: { 'mcp-session-id': sessionId } },
      ),
    );
    expect(own.status).toBe(200);
    const stolen = await fetch(
      legacyRequest(
        server.mcpUrl,
        server.keys.admin,
        'tools/list',
        {},
        { headers: { 'mcp-session-id': sessionId } },
      ),
    );
    expect(stolen.status).toBe(404);
    const noAuth = await fetch(
      legacyRequest(server.mcpUrl, undefined, 'tools/list', {}, { headers: { 'mcp-session-id': sessionId } }),
    );
    expect(noAuth.status).toBe(401);

    const del = (key: string) =>
      fetch(server.mcpUrl, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${key}`, 'mcp-session-id': sessionId },
      });
    expect((await del(server.keys.admin)).status).toBe(404);
    expect((await del(server.keys.reader)).status).toBe(204);
    const after = await fetch(
      legacyRequest(
        server.mcpUrl,
        server.keys.reader,
        'tools/list',
        {},
        { headers: { 'mcp-session-id': sessionId } },
      ),
    );
    expect(after.status).toBe(404);
  });

  it('accepts notifications with 202', async () => {
    const res = await fetch(
      legacyRequest(server.mcpUrl, server.keys.reader, 'notifications/initialized', {}, { id: null }),
    );
    expect(res.status).toBe(202);
  });
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
