import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readRecords } from '../src/audit/read.js';
import { createRampart, defineTool, type Rampart } from '../src/index.js';
import { mintKeys } from './helpers/keys.js';
import { modernRequest } from './helpers/mcp.js';

// Internal failures whatever shape they take: a generic error with a request id, the same id in
// the audit record and in the server log, and nothing of the failure in the answer.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-internal-'));
const URL_BASE = 'http://127.0.0.1:8787/mcp';
const logLines: Record<string, unknown>[] = [];
let rampart: Rampart;
let key: string;

/** An error pino's standard serializer cannot handle: frozen, with a getter that throws. */
function hostileError(): Error {
  const error = new Error('SQLITE_ERROR near /srv/app/prod.sqlite');
  Object.defineProperty(error, 'code', {
    get() {
      throw new Error('no');
    },
  });
  return Object.freeze(error);
}

const tools = [
  defineTool({
    name: 'schema_throws',
    description: 'Its input schema throws a frozen error',
    scope: 'mcp:read',
    input: z.object({
      x: z.string().transform(() => {
        throw hostileError();
      }),
    }),
    handler: () => 'never',
  }),
  defineTool({
    name: 'handler_throws',
    description: 'Its handler throws a frozen error',
    scope: 'mcp:read',
    input: z.object({}),
    handler: () => {
      throw hostileError();
    },
  }),
  defineTool({
    name: 'calc',
    description: 'Takes a number',
    scope: 'mcp:read',
    input: z.object({ n: z.number() }),
    handler: ({ n }) => String(n),
  }),
];

beforeAll(async () => {
  ({ key } = await mintKeys(dataDir, { key: { user: 'u', scopes: ['mcp:read'] } }));
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  rampart = await createRampart({
    tools,
    config: { storage: { dataDir } },
    logger: pino({ level: 'info' }, sink),
  });
});
afterAll(async () => {
  await rampart?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(name: string, args: unknown, raw?: string) {
  const request = modernRequest(URL_BASE, key, 'tools/call', { name, arguments: args });
  const response = await rampart.fetch(
    raw === undefined
      ? request
      : new Request(request, { body: (await request.text()).replace('"__N__"', raw) }),
  );
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) };
}

async function auditRecordOf(requestId: string) {
  await rampart.audit?.flush();
  const { records } = await readRecords(join(dataDir, 'audit.log'));
  return records.find((r) => r.requestId === requestId);
}

describe('internal failures', () => {
  it.each(['schema_throws', 'handler_throws'])(
    '%s: a frozen error with a throwing getter gives a generic answer, a log line and an audit record, all with one request id',
    async (name) => {
      const { text, body } = await call(name, name === 'schema_throws' ? { x: 'a' } : {});
      expect(text).not.toMatch(/SQLITE|\/srv\//);
      const requestId = (body.error?.data?.requestId ??
        /request id ([0-9a-f-]{36})/.exec(text)?.[1]) as string;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const logged = logLines.find((l) => l.reqId === requestId && l.level === 50);
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged)).toContain('SQLITE_ERROR');
      expect(await auditRecordOf(requestId)).toMatchObject({ event: 'tool.call', outcome: 'error' });
    },
  );
});

describe('numbers JSON cannot say again', () => {
  it.each(['1e999', '-1e400'])('%s in the arguments is an input error, not an internal one', async (raw) => {
    const { status, body } = await call('calc', { n: '__N__' }, raw);
    expect(status).toBe(400);
    expect(body.error.data.code).toBe('ERR_REQUEST_NUMBER_OUT_OF_RANGE');
    expect(logLines.some((l) => l.level === 50 && l.reqId === body.error.data.requestId)).toBe(false);
  });
});
