import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listen, type RunningServer } from '../../src/adapters/node/listen.js';
import { createRampart, defineTool, type ToolReturn } from '../../src/index.js';
import { mintKeys } from '../helpers/keys.js';
import { freePort } from '../helpers/net.js';

// Whatever a handler returns, the official client accepts the answer: a value that is not a valid
// tool result is sent as data, never as a result the client rejects.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-shapes-'));
const returns: Record<string, unknown> = {
  row_with_content: { id: 1, content: [1, null, { type: 'evil' }] },
  number: 42,
  boolean: true,
  nothing: undefined,
  bad_structured: { content: [{ type: 'text', text: 'x' }], structuredContent: 'no' },
};
let running: RunningServer;
let key: string;

beforeAll(async () => {
  ({ key } = await mintKeys(dataDir, { key: { user: 'u', scopes: ['mcp:read'] } }));
  const rampart = await createRampart({
    tools: Object.entries(returns).map(([name, value]) =>
      defineTool({
        name,
        description: `Returns ${name}`,
        scope: 'mcp:read',
        input: z.object({}),
        handler: () => value as ToolReturn,
      }),
    ),
    config: { server: { port: await freePort() }, storage: { dataDir } },
    logger: pino({ level: 'silent' }),
  });
  running = await listen(rampart);
});
afterAll(async () => {
  await running?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('tool results the SDK client accepts', () => {
  it.each(Object.keys(returns))('%s', async (name) => {
    const client = new Client({ name: 'shapes', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${running.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
      }),
    );
    try {
      const result = await client.callTool({ name, arguments: {} });
      expect(result.isError ?? false).toBe(false);
    } finally {
      await client.close();
    }
  });
});
