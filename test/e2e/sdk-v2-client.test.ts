import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';

let server: DemoServer;
beforeAll(async () => {
  server = await startDemoServer();
});
afterAll(async () => {
  await server?.stop();
});

function transportFor(key: string): StreamableHTTPClientTransport {
  return new StreamableHTTPClientTransport(new URL(server.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
}

describe('official SDK v2 client', () => {
  it('negotiates the modern 2026-07-28 era (auto) and calls tools statelessly', async () => {
    const client = new Client(
      { name: 'rampart-test-v2', version: '2.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    const transport = transportFor(server.keys.admin);
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getServerVersion()).toMatchObject({ name: 'rampart' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('purge_all');
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.structuredContent).toMatchObject({ subject: 'alice', authMethod: 'api_key' });
    const rows = await client.callTool({
      name: 'query_data',
      arguments: { table: 'products', filters: [{ column: 'name', operator: 'like', value: '100%' }] },
    });
    expect(rows.structuredContent).toEqual({ rows: [expect.objectContaining({ name: 'Gadget 100%' })] });
    await client.close();
  });

  it('pins 2026-07-28 and sees step-up errors for a read-only key', async () => {
    const client = new Client(
      { name: 'rampart-test-v2', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(transportFor(server.keys.reader));
    expect(client.getProtocolEra()).toBe('modern');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['list_items', 'query_data', 'read_file', 'whoami']);
    await expect(
      client.callTool({ name: 'delete_item', arguments: { table: 'orders', id: 1 } }),
    ).rejects.toThrow();
    await client.close();
  });

  it('speaks the legacy 2025 era (initialize handshake) on the same endpoint', async () => {
    const client = new Client({ name: 'rampart-test-v2-legacy', version: '2.0.0' });
    await client.connect(transportFor(server.keys.admin));
    expect(client.getProtocolEra()).toBe('legacy');
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.structuredContent).toMatchObject({ subject: 'alice' });
    await client.close();
  });
});
