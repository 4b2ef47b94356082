import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';

let server: DemoServer;
beforeAll(async () => {
  server = await startDemoServer();
});
afterAll(async () => {
  await server?.stop();
});

async function connect(key: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  const client = new Client({ name: 'rampart-test-v1', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

describe('official SDK v1 client (2025 era)', () => {
  it('initializes, gets a session, lists and calls tools', async () => {
    const { client, transport } = await connect(server.keys.admin);
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client.getServerVersion()).toMatchObject({ name: 'rampart' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['whoami', 'list_items', 'query_data', 'delete_item', 'purge_all', 'read_file']),
    );
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.structuredContent).toMatchObject({ subject: 'alice', roles: ['admin'] });
    await transport.terminateSession();
    await client.close();
  });

  it('sees only what a read-only key may call, and gets tool errors for bad input', async () => {
    const { client } = await connect(server.keys.reader);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['list_items', 'query_data', 'read_file', 'whoami']);
    const bad = await client.callTool({ name: 'list_items', arguments: { table: 'secrets' } });
    expect(bad.isError).toBe(true);
    await client.close();
  });

  it('fails to connect without a credential', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl));
    const client = new Client({ name: 'anon', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toThrow();
  });
});
