import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readRecords } from '../src/audit/read.js';
import { ConfigError, createRampart, defineTool, type Rampart, ToolError } from '../src/index.js';
import { mintKeys } from './helpers/keys.js';
import { modernRequest } from './helpers/mcp.js';

// Output sanitization through the whole endpoint: what a leaky tool returns is cleaned on the way out.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-sanitize-'));
const URL_BASE = 'http://127.0.0.1:8787/mcp';
let rampart: Rampart;
let key: string;

const leaky = defineTool({
  name: 'leaky',
  description: 'Returns what it should not',
  scope: 'mcp:read',
  input: z.object({ mode: z.enum(['text', 'structured', 'error', 'huge', 'custom', 'unsendable']) }),
  handler: ({ mode }) => {
    switch (mode) {
      case 'text':
        return 'env: DATABASE_URL=postgres://app:pw123@db/prod AWS=AKIAIOSFODNN7EXAMPLE \u001b[2J\u001b[H cleared';
      case 'structured':
        return { rows: [{ token: 'Bearer abcdefghijklmnopqrstuvwxyz' }] };
      case 'error':
        throw new ToolError('upstream said: api_key=sk_live_abcdefghijklmnopqrstuvwx');
      case 'huge':
        return 'x'.repeat(5000);
      case 'unsendable':
        // A result JSON cannot carry: the call fails however the tool saw it.
        return { content: [{ type: 'text', text: 'ok' }], structuredContent: { n: 10n } };
      default:
        return 'ticket INTERNAL-12345 assigned';
    }
  },
});

beforeAll(async () => {
  ({ key } = await mintKeys(dataDir, { key: { user: 'u', scopes: ['mcp:read'] } }));
  rampart = await createRampart({
    tools: [leaky],
    config: {
      storage: { dataDir },
      sanitize: {
        maxOutputChars: 1024,
        patterns: [{ id: 'ticket', pattern: 'INTERNAL-\\d+', replacement: '[ticket]' }],
      },
    },
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await rampart?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(mode: string) {
  const res = await rampart.fetch(
    modernRequest(URL_BASE, key, 'tools/call', { name: 'leaky', arguments: { mode } }),
  );
  return (await res.json()) as {
    result: { content: { text: string }[]; structuredContent?: unknown; isError?: boolean };
  };
}

describe('output sanitization', () => {
  it('redacts secrets and strips terminal escapes from text', async () => {
    const { result } = await call('text');
    expect(result.content[0]?.text).toBe(
      'env: DATABASE_URL=postgres://app:[REDACTED]@db/prod AWS=[REDACTED]  cleared',
    );
  });

  it('cleans structured content and its text mirror alike', async () => {
    const { result } = await call('structured');
    expect(JSON.stringify(result)).not.toContain('abcdefghijklmnopqrstuvwxyz');
    expect(result.structuredContent).toEqual({ rows: [{ token: 'Bearer [REDACTED]' }] });
  });

  it('cleans tool error texts too', async () => {
    const { result } = await call('error');
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toBe('upstream said: api_key=[REDACTED]');
  });

  it('caps the size of a result with a marker', async () => {
    const { result } = await call('huge');
    const text = result.content[0]?.text ?? '';
    expect(text.length).toBeLessThan(1100);
    expect(text).toMatch(/…\[truncated \d+ characters\]$/);
  });

  it('applies patterns from the configuration', async () => {
    expect((await call('custom')).result.content[0]?.text).toBe('ticket [ticket] assigned');
  });

  it('answers a result that cannot be sent with a generic error, and the audit record says so', async () => {
    const response = await rampart.fetch(
      modernRequest(URL_BASE, key, 'tools/call', { name: 'leaky', arguments: { mode: 'unsendable' } }),
    );
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { message: string; data: { requestId: string } } };
    expect(body.error.message).not.toMatch(/BigInt|serialize/i);
    await rampart.audit?.flush();
    const { records } = await readRecords(join(dataDir, 'audit.log'));
    const record = records.find((r) => r.requestId === body.error.data.requestId);
    expect(record).toMatchObject({ event: 'tool.call', outcome: 'error', reason: 'ERR_INTERNAL' });
  });

  it('refuses unknown rule ids and bad patterns at start-up', async () => {
    const start = (sanitize: Record<string, unknown>) =>
      createRampart({
        tools: [leaky],
        config: { storage: { dataDir }, sanitize },
        logger: pino({ level: 'silent' }),
      });
    await expect(start({ disabledRules: ['no-such-rule'] })).rejects.toThrow(ConfigError);
    await expect(start({ patterns: [{ id: 'bad', pattern: '(' }] })).rejects.toThrow(/sanitize\.patterns/);
  });
});
