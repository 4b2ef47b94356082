import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRampart, defineTool, type Rampart, ToolError } from '../src/index.js';
import { openKeyStore } from '../src/stores/key-store.js';
import { mintKeys } from './helpers/keys.js';
import { modernRequest } from './helpers/mcp.js';

// The library without a socket: rampart.fetch(Request) is the whole boundary.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-lib-'));
const URL_BASE = 'http://127.0.0.1:8787/mcp';
let rampart: Rampart;
let keys: { ops: string; clerk: string };
const seen: string[] = [];

const refund = defineTool({
  name: 'refund',
  description: 'Refunds an order; over 500 needs the ops role',
  scope: 'mcp:write',
  destructive: true,
  input: z.object({ orderId: z.number().int().positive(), amount: z.number().positive().max(10_000) }),
  allow: ({ amount }, principal) =>
    amount <= 500 || principal.roles.has('ops') || 'refunds over 500 need the ops role',
  handler: ({ orderId, amount }, { principal }) => {
    seen.push(`${principal.subject}:${orderId}:${amount}`);
    return { refunded: amount, orderId };
  },
});
const failing = defineTool({
  name: 'failing',
  description: 'Fails',
  scope: 'mcp:read',
  input: z.object({ mode: z.enum(['exposed', 'internal']) }),
  handler: ({ mode }) => {
    if (mode === 'exposed') throw new ToolError('order 7 is locked');
    throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
  },
});

// Answers through a thenable that is not a Promise (some libraries return their own), or fails late.
const later = defineTool({
  name: 'later',
  description: 'Answers later',
  scope: 'mcp:read',
  input: z.object({ fail: z.boolean() }),
  handler: ({ fail }) =>
    fail
      ? Promise.reject(new ToolError('too late'))
      : ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose
          then: (resolve: (value: string) => void) => setTimeout(() => resolve('done later'), 1),
        } as unknown as Promise<string>),
});

const tagged = defineTool({
  name: 'tagged',
  description: 'Takes a map of tags',
  scope: 'mcp:read',
  input: z.object({ tags: z.record(z.string(), z.object({ weight: z.number() })) }),
  handler: () => 'ok',
});

beforeAll(async () => {
  const store = await openKeyStore(join(dataDir, 'rampart.db'));
  await store.keys.createUser('olga', ['ops']);
  await store.keys.createUser('carl', []);
  keys = {
    ops: (await store.keys.createKey({ name: 'o', userId: 'olga', scopes: ['mcp:write'] })).key,
    clerk: (await store.keys.createKey({ name: 'c', userId: 'carl', scopes: ['mcp:write'] })).key,
  };
  await store.close();
  rampart = await createRampart({
    tools: [refund, failing, tagged, later],
    config: { storage: { dataDir } },
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await rampart?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(key: string, name: string, args: Record<string, unknown>) {
  const res = await rampart.fetch(modernRequest(URL_BASE, key, 'tools/call', { name, arguments: args }));
  return { status: res.status, body: await res.json() };
}

describe('argument-level rules (allow)', () => {
  it('lets a small refund through for anyone with the scope', async () => {
    const { body } = await call(keys.clerk, 'refund', { orderId: 1, amount: 20 });
    expect(body.result.structuredContent).toEqual({ refunded: 20, orderId: 1 });
  });

  it('denies a large refund to a user without the role, with the author’s reason, before the handler', async () => {
    const { status, body } = await call(keys.clerk, 'refund', { orderId: 2, amount: 900 });
    expect(status).toBe(200);
    expect(body.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'Not permitted: refunds over 500 need the ops role' }],
    });
    expect(seen).not.toContain('carl:2:900');
  });

  it('allows it to a user with the role', async () => {
    const { body } = await call(keys.ops, 'refund', { orderId: 3, amount: 900 });
    expect(body.result.structuredContent).toEqual({ refunded: 900, orderId: 3 });
  });
});

describe('handler failures', () => {
  it('returns a ToolError message as a tool error', async () => {
    const { body } = await call(keys.clerk, 'failing', { mode: 'exposed' });
    expect(body.result).toMatchObject({ isError: true, content: [{ text: 'order 7 is locked' }] });
  });

  it('hides an internal error behind the request id', async () => {
    const { body } = await call(keys.clerk, 'failing', { mode: 'internal' });
    const text = JSON.stringify(body);
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0].text).toMatch(/^The tool failed \(request id [0-9a-f-]{36}\)$/);
    expect(text).not.toMatch(/ECONNREFUSED|hunter2|10\.0\.0\.5|at /);
  });
});

describe('asynchronous answers', () => {
  it('waits for a thenable, and turns a late ToolError into a tool error', async () => {
    expect((await call(keys.clerk, 'later', { fail: false })).body.result.content).toEqual([
      { type: 'text', text: 'done later' },
    ]);
    expect((await call(keys.clerk, 'later', { fail: true })).body.result).toMatchObject({
      isError: true,
      content: [{ text: 'too late' }],
    });
  });
});

describe('input echo', () => {
  it('names no input-derived key when refusing an unknown property under a record', async () => {
    const { body } = await call(keys.clerk, 'tagged', {
      tags: { '<img src=x>': { weight: 1, extra: true } },
    });
    expect(body.result).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'Invalid arguments: tags.?: has unknown properties' }],
    });
  });
});

describe('configuration errors', () => {
  it('refuses a tool whose scope the configuration does not know', async () => {
    const tool = defineTool({
      name: 'x',
      description: 'x',
      scope: 'billing:write',
      input: z.object({}),
      handler: () => 'x',
    });
    await expect(createRampart({ tools: [tool], config: { storage: { dataDir } } })).rejects.toThrow(
      /billing:write/,
    );
  });

  it('refuses duplicate tool names', async () => {
    await expect(
      createRampart({ tools: [refund, refund], config: { storage: { dataDir } } }),
    ).rejects.toThrow(/duplicate tool name/);
  });
});

describe('schemas with async refinements', () => {
  it('validates them asynchronously, on every call', async () => {
    const asyncDir = mkdtempSync(join(tmpdir(), 'rampart-async-'));
    const { key } = await mintKeys(asyncDir, { key: { user: 'u', scopes: ['mcp:read'] } });
    const lookup = defineTool({
      name: 'lookup',
      description: 'Checks a code against a slow source',
      scope: 'mcp:read',
      input: z.object({ code: z.string().refine(async (c) => c.startsWith('ok'), 'unknown code') }),
      handler: ({ code }) => `found ${code}`,
    });
    const server = await createRampart({
      tools: [lookup],
      config: { storage: { dataDir: asyncDir }, audit: { enabled: false } },
      logger: pino({ level: 'silent' }),
    });
    try {
      const call = async (code: string) =>
        (await (
          await server.fetch(
            modernRequest(URL_BASE, key, 'tools/call', { name: 'lookup', arguments: { code } }),
          )
        ).json()) as { result: { isError?: boolean; content: { text: string }[] } };
      for (let i = 0; i < 2; i++) {
        expect((await call('ok-1')).result.content[0]?.text).toBe('found ok-1');
        const refused = await call('nope');
        expect(refused.result.isError).toBe(true);
        expect(refused.result.content[0]?.text).toContain('unknown code');
      }
    } finally {
      await server.close();
      rmSync(asyncDir, { recursive: true, force: true });
    }
  });
});
