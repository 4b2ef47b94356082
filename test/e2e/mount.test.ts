import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/server';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listen, type RunningServer } from '../../src/adapters/node/listen.js';
import { ConfigError, createRampart, defineTool, type Rampart } from '../../src/index.js';
import { mintKeys } from '../helpers/keys.js';
import { legacyRequest, modernRequest } from '../helpers/mcp.js';
import { freePort } from '../helpers/net.js';

// A user's own SDK server (tools, a resource, a prompt), mounted behind Rampart's boundary.
const seenAuth: unknown[] = [];
function buildSdkServer(): McpServer {
  const server = new McpServer({ name: 'inventory', version: '3.1.0' }, { capabilities: { logging: {} } });
  server.registerTool(
    'search',
    { description: 'Searches the inventory', inputSchema: z.object({ q: z.string().max(50) }) },
    async ({ q }, ctx) => {
      seenAuth.push(ctx.http?.authInfo);
      return { content: [{ type: 'text', text: `found:${q}` }] };
    },
  );
  server.registerTool('reindex', { description: 'Rebuilds the index' }, async () => ({
    content: [{ type: 'text', text: 'reindexed' }],
  }));
  server.registerTool('undeclared', { description: 'Has no rule in the mount' }, async () => ({
    content: [{ type: 'text', text: 'should never run' }],
  }));
  server.registerTool('clash', { description: 'Shadowed by the own tool' }, async () => ({
    content: [{ type: 'text', text: 'sdk clash' }],
  }));
  server.registerResource('readme', 'docs://readme', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'inventory readme' }],
  }));
  server.registerPrompt(
    'summarise',
    { description: 'Summarise', argsSchema: z.object({ topic: z.string() }) },
    ({ topic }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Summarise ${topic}` } }],
    }),
  );
  return server;
}

const clash = defineTool({
  name: 'clash',
  description: 'Rampart own tool',
  scope: 'mcp:read',
  input: z.object({}),
  handler: () => 'own clash',
});
const ping = defineTool({
  name: 'own_ping',
  description: 'Rampart own tool',
  scope: 'mcp:read',
  input: z.object({}),
  handler: () => 'pong',
});

const dataDir = mkdtempSync(join(tmpdir(), 'rampart-mount-'));
let rampart: Rampart;
let running: RunningServer;
let mcpUrl: string;
let keys: { reader: string; admin: string; adminScopeOnly: string };

beforeAll(async () => {
  keys = await mintKeys(dataDir, {
    reader: { user: 'rita', scopes: ['mcp:read'] },
    admin: { user: 'ada', roles: ['admin'], scopes: ['mcp:admin'] },
    adminScopeOnly: { user: 'rita', scopes: ['mcp:admin'] },
  });
  const port = await freePort();
  rampart = await createRampart({
    config: { server: { port }, storage: { dataDir } },
    tools: [clash, ping],
    mount: {
      server: buildSdkServer,
      tools: {
        search: 'mcp:read',
        reindex: { scope: 'mcp:admin', roles: ['admin'] },
        clash: 'mcp:read',
      },
    },
    logger: pino({ level: 'silent' }),
  });
  running = await listen(rampart);
  mcpUrl = `${running.url}/mcp`;
});
afterAll(async () => {
  await running?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function v2(
  key: string,
  mode: 'auto' | 'legacy',
): { client: Client; transport: StreamableHTTPClientTransport } {
  const client = new Client(
    { name: 'mount-test', version: '1' },
    mode === 'auto' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  return { client, transport };
}

describe('an SDK McpServer mounted behind the boundary', () => {
  it('serves the modern era: merged, filtered tool list; mounted tools, resources and prompts', async () => {
    const { client, transport } = v2(keys.reader, 'auto');
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getServerVersion()).toMatchObject({ name: 'inventory', version: '3.1.0' });
    const caps = client.getServerCapabilities();
    expect(caps?.tools).toBeDefined();
    expect(caps?.resources).toBeDefined();
    expect(caps?.prompts).toBeDefined();

    const { tools } = await client.listTools();
    // Own tools first; the mounted ones the reader may call; never the undeclared or the shadowed one.
    expect(tools.map((t) => t.name)).toEqual(['clash', 'own_ping', 'search']);
    expect(tools[0]?.description).toBe('Rampart own tool');

    const found = await client.callTool({ name: 'search', arguments: { q: 'bolts' } });
    expect(found.content).toEqual([{ type: 'text', text: 'found:bolts' }]);
    const own = await client.callTool({ name: 'clash', arguments: {} });
    expect(own.content).toEqual([{ type: 'text', text: 'own clash' }]);

    const readme = await client.readResource({ uri: 'docs://readme' });
    expect(readme.contents[0]).toMatchObject({ text: 'inventory readme' });
    const prompt = await client.getPrompt({ name: 'summarise', arguments: { topic: 'Q3' } });
    expect(prompt.messages[0]?.content).toMatchObject({ text: 'Summarise Q3' });
    await client.close();
  });

  it('serves the legacy era with a session bound to the principal', async () => {
    const { client, transport } = v2(keys.reader, 'legacy');
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe('legacy');
    expect(transport.sessionId).toMatch(/.+/);
    expect(client.getServerVersion()).toMatchObject({ name: 'inventory' });
    const found = await client.callTool({ name: 'search', arguments: { q: 'nuts' } });
    expect(found.content).toEqual([{ type: 'text', text: 'found:nuts' }]);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['docs://readme']);
    // Another principal cannot ride the session.
    const stolen = await fetch(
      legacyRequest(
        mcpUrl,
        keys.admin,
        'tools/list',
        {},
        { headers: { 'mcp-session-id': transport.sessionId ?? '' } },
      ),
    );
    expect(stolen.status).toBe(404);
    await client.close();
  });

  it('works with the v1 SDK client', async () => {
    const client = new ClientV1({ name: 'mount-v1', version: '1' });
    const transport = new TransportV1(new URL(mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${keys.admin}` } },
    });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['clash', 'own_ping', 'search', 'reindex']);
    const result = await client.callTool({ name: 'reindex', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'reindexed' }]);
    await client.close();
  });

  it('authorizes mounted tools by the mount rules: scope, then role, and default deny', async () => {
    const call = (key: string, name: string, args: Record<string, unknown> = {}) =>
      fetch(modernRequest(mcpUrl, key, 'tools/call', { name, arguments: args }));

    const stepUp = await call(keys.reader, 'reindex');
    expect(stepUp.status).toBe(403);
    expect(stepUp.headers.get('www-authenticate')).toContain('scope="mcp:admin"');
    expect(stepUp.headers.get('www-authenticate')).toContain('error="insufficient_scope"');

    const noRole = await call(keys.adminScopeOnly, 'reindex');
    expect(noRole.status).toBe(403);
    expect(((await noRole.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      'ERR_AUTHZ_FORBIDDEN',
    );

    const undeclared = await call(keys.admin, 'undeclared');
    const body = (await undeclared.json()) as { error: { code: number; data: { code: string } } };
    expect(body.error).toMatchObject({ code: -32602, data: { code: 'ERR_PROTOCOL_UNKNOWN_TOOL' } });
  });

  it('hands the principal to the SDK server, never the credential', async () => {
    seenAuth.length = 0;
    const response = await fetch(
      modernRequest(mcpUrl, keys.reader, 'tools/call', { name: 'search', arguments: { q: 'x' } }),
    );
    expect(response.status).toBe(200);
    expect(seenAuth).toHaveLength(1);
    const auth = seenAuth[0] as { token: string; scopes: string[]; extra: Record<string, unknown> };
    expect(auth.token).toBe('');
    expect(auth.scopes).toEqual(['mcp:read']);
    expect(auth.extra).toMatchObject({ subject: 'rita', issuer: 'rampart', authMethod: 'api_key' });
    expect(JSON.stringify(auth)).not.toContain(keys.reader);
  });

  it('hides a mounted tool’s error text by default, and passes protocol errors with the request id', async () => {
    const response = await fetch(
      modernRequest(mcpUrl, keys.reader, 'tools/call', { name: 'search', arguments: { q: 'x'.repeat(60) } }),
    );
    const body = (await response.json()) as { result: { isError?: boolean; content: { text: string }[] } };
    // The SDK reports input validation (and any exception) as a tool error result; its text could
    // hold internals, so by default the client gets a generic failure with the request id.
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0]?.text).toMatch(/^The tool failed \(request id [0-9a-f-]{36}\)$/);

    const missing = await fetch(
      modernRequest(
        mcpUrl,
        keys.reader,
        'resources/read',
        { uri: 'docs://missing' },
        {
          headers: { 'mcp-name': 'docs://missing' },
        },
      ),
    );
    const error = (await missing.json()) as {
      id: number;
      error: { code: number; data: { requestId: string } };
    };
    expect(error.id).toBe(1);
    expect(error.error.code).toBeLessThan(0);
    expect(error.error.data.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses methods without a rule, and the boundary still runs first', async () => {
    const unknown = await fetch(
      modernRequest(mcpUrl, keys.reader, 'resources/subscribe', { uri: 'docs://readme' }),
    );
    expect(unknown.status).toBe(404);
    const noAuth = await fetch(
      modernRequest(
        mcpUrl,
        undefined,
        'resources/read',
        { uri: 'docs://readme' },
        {
          headers: { 'mcp-name': 'docs://readme' },
        },
      ),
    );
    expect(noAuth.status).toBe(401);
    const mismatch = await fetch(
      modernRequest(
        mcpUrl,
        keys.reader,
        'resources/read',
        { uri: 'docs://readme' },
        {
          headers: { 'mcp-name': 'docs://other' },
        },
      ),
    );
    expect(mismatch.status).toBe(400);
  });

  it('passes tool error texts through, sanitized, when the mount says they are written for the caller', async () => {
    const exposing = await createRampart({
      config: { storage: { dataDir }, audit: { enabled: false } },
      mount: { server: buildSdkServer, tools: { search: 'mcp:read' }, exposeToolErrors: true },
      logger: pino({ level: 'silent' }),
    });
    try {
      const response = await exposing.fetch(
        modernRequest('http://127.0.0.1:8787/mcp', keys.reader, 'tools/call', {
          name: 'search',
          arguments: { q: 'x'.repeat(60) },
        }),
      );
      const body = (await response.json()) as { result: { isError?: boolean; content: { text: string }[] } };
      expect(body.result.isError).toBe(true);
      expect(body.result.content[0]?.text).toContain('Input validation error');
    } finally {
      await exposing.close();
    }
  });

  it('cleans everything a mounted server sends: listings, prompts, resource text and its errors', async () => {
    const secret =
      'DATABASE_URL=postgres://app:s3cretPW@db.internal/prod AKIAIOSFODNN7EXAMPLE \u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007';
    const leaky = () => {
      const server = new McpServer({ name: 'leaky', version: '1.0.0' });
      server.registerTool('search', { description: `Search. ${secret}` }, async () => ({
        content: [{ type: 'text', text: secret }],
      }));
      server.registerResource('cfg', 'docs://cfg', { description: `cfg ${secret}` }, async (uri) => ({
        contents: [{ uri: uri.href, text: secret }],
      }));
      server.registerResource('boom', 'docs://boom', {}, async () => {
        // A gRPC-style failure: a numeric code of its own, internals in the message.
        throw Object.assign(
          new Error(`14 UNAVAILABLE: ECONNREFUSED 10.0.3.7:50051 ${secret} at /srv/app/grpc.js:88`),
          {
            code: 14,
          },
        );
      });
      server.registerResource('sqlboom', 'docs://sqlboom', {}, async () => {
        // A JSON-RPC library's "server error" code (-32000) with a driver's message.
        throw Object.assign(new Error(`SQLITE_ERROR: no such table ${secret} (/srv/app/data/prod.sqlite)`), {
          code: -32000,
        });
      });
      server.registerPrompt('p', { description: `prompt ${secret}` }, () => ({
        messages: [{ role: 'user', content: { type: 'text', text: `Use ${secret}` } }],
      }));
      return server;
    };
    const gateway = await createRampart({
      config: { storage: { dataDir }, audit: { enabled: false } },
      mount: { server: leaky, tools: { search: 'mcp:read' } },
      logger: pino({ level: 'silent' }),
    });
    const leaks = (text: string) =>
      ['s3cretPW', 'AKIAIOSFODNN7EXAMPLE', '\\u001b', 'evil.example\\u0007', '/srv/app', '10.0.3.7'].filter(
        (x) => text.includes(x),
      );
    try {
      const calls: [string, Record<string, unknown>, Record<string, string>][] = [
        ['tools/list', {}, {}],
        ['tools/call', { name: 'search', arguments: {} }, {}],
        ['resources/list', {}, {}],
        ['resources/read', { uri: 'docs://cfg' }, { 'mcp-name': 'docs://cfg' }],
        ['prompts/list', {}, {}],
        ['prompts/get', { name: 'p' }, { 'mcp-name': 'p' }],
        ['resources/read', { uri: 'docs://boom' }, { 'mcp-name': 'docs://boom' }],
        ['resources/read', { uri: 'docs://sqlboom' }, { 'mcp-name': 'docs://sqlboom' }],
      ];
      for (const [method, params, headers] of calls) {
        const response = await gateway.fetch(
          modernRequest('http://127.0.0.1:8787/mcp', keys.reader, method, params, { headers }),
        );
        const text = await response.text();
        expect({ method, leaks: leaks(text) }).toEqual({ method, leaks: [] });
        expect(text).toMatch(
          method === 'resources/read' && String(params.uri).includes('boom') ? /"error"/ : /"result"/,
        );
      }
      // The failure with a code of its own is an internal error, not the mounted server's text.
      const boom = await gateway.fetch(
        modernRequest(
          'http://127.0.0.1:8787/mcp',
          keys.reader,
          'resources/read',
          { uri: 'docs://boom' },
          { headers: { 'mcp-name': 'docs://boom' } },
        ),
      );
      const body = (await boom.json()) as {
        error: { code: number; message: string; data: { code: string; requestId: string } };
      };
      // As any internal failure: 500, a generic error and the request id the log line carries.
      expect(boom.status).toBe(500);
      expect(body.error).toMatchObject({ code: -32603, data: { code: 'ERR_INTERNAL' } });
      expect(body.error.data.requestId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await gateway.close();
    }
  });

  it('answers an internal error when the mounted server does not answer in time (a result it cannot serialize)', async () => {
    const stuck = () => {
      const server = new McpServer({ name: 'stuck', version: '1' });
      server.registerTool('count', { description: 'Counts' }, async () => ({
        content: [{ type: 'text', text: 'n' }],
        structuredContent: { n: 10n },
      }));
      return server;
    };
    const gateway = await createRampart({
      config: { storage: { dataDir }, audit: { enabled: false } },
      mount: { server: stuck, tools: { count: 'mcp:read' }, timeoutMs: 300 },
      logger: pino({ level: 'silent' }),
    });
    try {
      // Before the deadline existed this call never came back (the test's own timeout ended it).
      const response = await gateway.fetch(
        modernRequest('http://127.0.0.1:8787/mcp', keys.reader, 'tools/call', {
          name: 'count',
          arguments: {},
        }),
      );
      const body = (await response.json()) as {
        error: { code: number; data: { code: string; requestId: string } };
      };
      expect(response.status).toBe(500);
      expect(body.error).toMatchObject({ code: -32603, data: { code: 'ERR_INTERNAL' } });
    } finally {
      await gateway.close();
    }
  });

  it('rejects mount rules with unknown scopes at start-up', async () => {
    await expect(
      createRampart({
        config: { storage: { dataDir } },
        mount: { server: buildSdkServer, tools: { search: 'mcp:raed' } },
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(ConfigError);
  });
});
