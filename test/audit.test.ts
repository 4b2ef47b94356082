import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AUDIT_FIELDS } from '../src/audit/record.js';
import { verifyAuditLog } from '../src/audit/verify.js';
import { createRampart, defineTool, type Rampart, ToolError } from '../src/index.js';
import { mintKeys } from './helpers/keys.js';
import { legacyRequest, modernRequest } from './helpers/mcp.js';

// Every audit event the endpoint writes, with exactly its fields, through the library.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-audit-e2e-'));
const logFile = join(dataDir, 'audit.log');
const URL_BASE = 'http://127.0.0.1:8787/mcp';
const CANARY = 'canary-7f3a9e';
const serverLog: string[] = [];
let rampart: Rampart;
let keys: { reader: string; admin: string };

const echo = defineTool({
  name: 'echo',
  description: 'Echoes',
  scope: 'mcp:read',
  input: z.object({ text: z.string().max(100), password: z.string().optional() }),
  allow: ({ text }) => text !== 'forbidden' || 'not that',
  handler: ({ text }) => {
    if (text === 'fail') throw new Error('db down at 10.0.0.5');
    if (text === 'oops') throw new ToolError('order locked');
    return text;
  },
});
const admin = defineTool({
  name: 'admin_only',
  description: 'Admins',
  scope: 'mcp:admin',
  input: z.object({}),
  handler: () => 'ok',
});

beforeAll(async () => {
  keys = await mintKeys(dataDir, {
    reader: { user: 'rita', scopes: ['mcp:read'] },
    admin: { user: 'rita', scopes: ['mcp:admin'] },
  });
  rampart = await createRampart({
    tools: [echo, admin],
    config: {
      storage: { dataDir },
      audit: { mode: 'durable', checkpointEvery: 5 },
      rateLimit: { perTool: '3/min' },
    },
    logger: pino({ level: 'debug' }, { write: (line: string) => void serverLog.push(line) }),
  });
});
afterAll(async () => {
  await rampart?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const records = () =>
  readFileSync(logFile, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.event !== 'checkpoint');
const last = () => records().at(-1) as Record<string, unknown>;
const call = (key: string | undefined, args: Record<string, unknown>, name = 'echo') =>
  rampart.fetch(modernRequest(URL_BASE, key, 'tools/call', { name, arguments: args }, { id: 'abc' }), {
    remoteAddress: '198.51.100.7',
  });

const CHAIN = ['seq', 'ts', 'prev', 'hash'];
const sortedKeys = (r: Record<string, unknown>) => Object.keys(r).sort();

describe('audit records of requests', () => {
  it('tool.call: principal, tool, id, argument hash, duration, address, revision, request id', async () => {
    expect((await call(keys.reader, { text: 'hi', password: CANARY })).status).toBe(200);
    const r = last();
    expect(sortedKeys(r)).toEqual(
      [
        ...CHAIN,
        'event',
        'outcome',
        'reason',
        'principal',
        'tool',
        'method',
        'rpcId',
        'argsHash',
        'durationMs',
        'ip',
        'protocol',
        'requestId',
      ].sort(),
    );
    expect(r).toMatchObject({
      event: 'tool.call',
      outcome: 'allow',
      reason: 'ok',
      principal: { iss: 'rampart', sub: 'rita', auth: 'api_key', keyId: expect.any(String) },
      tool: 'echo',
      method: 'tools/call',
      rpcId: 'abc',
      ip: '198.51.100.7',
      protocol: '2026-07-28',
    });
    expect(r.argsHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [{ text: 'x'.repeat(200) }, 'deny', 'invalid_arguments'],
    [{ text: 'forbidden' }, 'deny', 'denied_by_rule'],
    [{ text: 'oops' }, 'error', 'tool_error'],
    [{ text: 'fail' }, 'error', 'tool_failed'],
  ])('tool.call %j ends %s (%s)', async (args, outcome, reason) => {
    const fresh = await createRampart({
      tools: [echo],
      config: { storage: { dataDir }, audit: { file: join(dataDir, `t-${reason}.log`) } },
      logger: pino({ level: 'silent' }),
    });
    await fresh.fetch(modernRequest(URL_BASE, keys.reader, 'tools/call', { name: 'echo', arguments: args }));
    await fresh.close();
    const line = readFileSync(join(dataDir, `t-${reason}.log`), 'utf8').split('\n')[0] as string;
    expect(JSON.parse(line)).toMatchObject({ event: 'tool.call', outcome, reason });
  });

  it('auth.failure: the reason code and address, no principal, never the credential', async () => {
    expect((await call(`rmp_${CANARY}`, { text: 'x' })).status).toBe(401);
    const r = last();
    expect(r).toMatchObject({
      event: 'auth.failure',
      outcome: 'deny',
      reason: 'ERR_AUTH_INVALID_TOKEN',
      ip: '198.51.100.7',
    });
    expect(r.principal).toBeUndefined();
    expect(sortedKeys(r)).toEqual(
      [...CHAIN, 'event', 'outcome', 'reason', 'durationMs', 'ip', 'requestId'].sort(),
    );
  });

  it('authz.denied: who, what and why', async () => {
    expect((await call(keys.reader, {}, 'admin_only')).status).toBe(403);
    expect(last()).toMatchObject({
      event: 'authz.denied',
      outcome: 'deny',
      reason: 'ERR_AUTHZ_INSUFFICIENT_SCOPE',
      tool: 'admin_only',
      principal: { sub: 'rita' },
    });
  });

  it('rate.limited', async () => {
    for (let i = 0; i < 5; i++) await call(keys.admin, {}, 'admin_only');
    expect(last()).toMatchObject({
      event: 'rate.limited',
      outcome: 'deny',
      reason: 'ERR_RATE_LIMITED',
      tool: 'admin_only',
    });
  });

  it('request (other methods) and request.rejected (refused before authentication)', async () => {
    await rampart.fetch(modernRequest(URL_BASE, keys.reader, 'tools/list'));
    expect(last()).toMatchObject({
      event: 'request',
      outcome: 'allow',
      method: 'tools/list',
      principal: { sub: 'rita' },
    });
    await rampart.fetch(
      legacyRequest(URL_BASE, keys.reader, 'ping', {}, { headers: { origin: 'https://evil.example' } }),
    );
    expect(last()).toMatchObject({
      event: 'request.rejected',
      outcome: 'deny',
      reason: 'ERR_HTTP_ORIGIN_FORBIDDEN',
    });
  });

  it('leaves no credential or canary anywhere in the audit log or the server log, and the log verifies', async () => {
    // Hostile requests carrying the canary: as a token, in a secret-looking argument, in headers.
    await call(`Bearer-${CANARY}`, { text: 'x' });
    await call(keys.reader, { text: 'y', password: CANARY });
    await rampart.fetch(
      modernRequest(
        URL_BASE,
        keys.reader,
        'tools/call',
        { name: 'echo', arguments: { text: 'z' } },
        {
          headers: { 'x-api-key': CANARY },
        },
      ),
    );
    const server = serverLog.join('');
    expect(server.length).toBeGreaterThan(0);
    for (const secret of [CANARY, keys.reader, keys.admin]) expect(server).not.toContain(secret);
    const text = readFileSync(logFile, 'utf8');
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(keys.reader);
    expect(text).not.toContain(keys.admin);
    expect(text).not.toContain(keys.reader.slice(0, 20));
    const report = await verifyAuditLog(logFile);
    expect(report.ok).toBe(true);
    expect(report.checkpoints).toBeGreaterThan(0);
    // Every field of every record is a documented one (docs/audit.md).
    for (const line of text.trimEnd().split('\n')) {
      for (const field of Object.keys(JSON.parse(line))) expect(Object.keys(AUDIT_FIELDS)).toContain(field);
    }
  });
});
