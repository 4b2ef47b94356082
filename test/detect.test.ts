import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listen } from '../src/adapters/node/listen.js';
import { ConfigError, createRampart, defineTool, type Rampart } from '../src/index.js';
import { mintKeys } from './helpers/keys.js';
import { modernRequest } from './helpers/mcp.js';

// Detection (alerts) and /metrics through the library.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-detect-'));
const BASE = 'http://127.0.0.1:8787';
let rampart: Rampart;
let keys: { reader: string; admin: string };

const echo = defineTool({
  name: 'echo',
  description: 'Echoes',
  scope: 'mcp:read',
  input: z.object({ text: z.string() }),
  handler: ({ text }) => text,
});

beforeAll(async () => {
  keys = await mintKeys(dataDir, {
    reader: { user: 'u', scopes: ['mcp:read'] },
    admin: { user: 'u', scopes: ['mcp:admin'] },
  });
  rampart = await createRampart({
    tools: [echo],
    config: {
      storage: { dataDir },
      detection: { authFailuresPerIp: { count: 3, windowSeconds: 60 } },
      rateLimit: { failedAuthPerIp: null },
    },
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await rampart?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const metrics = (key?: string) =>
  rampart.fetch(new Request(`${BASE}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} }));

describe('detection', () => {
  it('raises an alert into the audit trail when an address keeps failing authentication', async () => {
    for (let i = 0; i < 5; i++) {
      await rampart.fetch(modernRequest(`${BASE}/mcp`, 'rmp_guess', 'tools/list'), {
        remoteAddress: '192.0.2.66',
      });
    }
    const alerts = readFileSync(join(dataDir, 'audit.log'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.event === 'alert');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      outcome: 'deny',
      reason: 'auth_failures',
      ip: '192.0.2.66',
      detail: {
        kind: 'auth_failures',
        subjectType: 'ip',
        subject: '192.0.2.66',
        count: 4,
        windowSeconds: 60,
      },
    });
  });
});

describe('/metrics', () => {
  it('is for an admin credential only', async () => {
    const anonymous = await metrics();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('resource_metadata=');
    const reader = await metrics(keys.reader);
    expect(reader.status).toBe(403);
    expect(reader.headers.get('www-authenticate')).toContain('scope="mcp:admin"');
  });

  it('serves request, refusal, tool, latency and alert series in Prometheus text format', async () => {
    await rampart.fetch(
      modernRequest(`${BASE}/mcp`, keys.reader, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
    );
    const res = await metrics(keys.admin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('rampart_tool_calls_total{tool="echo",outcome="allow"} 1');
    expect(text).toContain('rampart_refusals_total{code="ERR_AUTH_INVALID_TOKEN"} 5');
    expect(text).toContain('rampart_alerts_total{kind="auth_failures"} 1');
    expect(text).toMatch(
      /rampart_request_duration_seconds_bucket\{le="[^"]+",tool="echo",outcome="allow"\} 1/,
    );
    // Five guesses at /mcp and the anonymous /metrics request of the test before.
    expect(text).toMatch(/rampart_requests_total\{event="auth.failure",outcome="deny"\} 6/);
    // Bounded labels only: no address, subject or key in any series.
    expect(text).not.toContain('192.0.2.66');
    expect(text).not.toContain(keys.reader);
  });

  it('counts failed credentials against the address budget, and audits and detects refusals', async () => {
    const guarded = await createRampart({
      tools: [echo],
      config: {
        storage: { dataDir },
        audit: { file: join(dataDir, 'metrics-guard.log') },
        rateLimit: { failedAuthPerIp: '5/min' },
        detection: { authFailuresPerIp: { count: 3, windowSeconds: 60 } },
      },
      logger: pino({ level: 'silent' }),
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await guarded.fetch(
          new Request(`${BASE}/metrics`, { headers: { authorization: `Bearer rmp_guess${i}` } }),
          { remoteAddress: '192.0.2.77' },
        );
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      const denied = await guarded.fetch(
        new Request(`${BASE}/metrics`, { headers: { authorization: `Bearer ${keys.reader}` } }),
        { remoteAddress: '192.0.2.78' },
      );
      expect(denied.status).toBe(403);
      await guarded.audit?.flush();
      const records = readFileSync(join(dataDir, 'metrics-guard.log'), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      const events = records.map((r) => `${r.event} ${r.method ?? r.reason}`);
      expect(events.filter((e) => e === 'auth.failure GET /metrics')).toHaveLength(5);
      expect(events.filter((e) => e === 'rate.limited GET /metrics')).toHaveLength(3);
      expect(events).toContain('authz.denied GET /metrics');
      expect(events).toContain('alert auth_failures');
    } finally {
      await guarded.close();
    }
  });

  it('labels a series with a tool name only once that tool has run: not for notifications or unknown tools', async () => {
    for (let i = 0; i < 20; i++) {
      const name = `junk-${i}-${'x'.repeat(100)}`;
      const call = modernRequest(`${BASE}/mcp`, keys.reader, 'tools/call', { name, arguments: {} });
      const body = JSON.parse(await call.text());
      delete body.id; // a notification: answered 202, no tool runs
      const notification = new Request(call, { body: JSON.stringify(body) });
      expect((await rampart.fetch(notification)).status).toBe(202);
      await rampart.fetch(modernRequest(`${BASE}/mcp`, keys.reader, 'tools/call', { name, arguments: {} }));
    }
    const text = await (await metrics(keys.admin)).text();
    expect(text).not.toContain('junk-');
  });

  it('can also be served on a separate loopback listener without authentication, and nowhere else', async () => {
    const separate = await createRampart({
      tools: [echo],
      config: {
        server: { port: 0 },
        storage: { dataDir },
        metrics: { listen: { port: 0 } },
        audit: { enabled: false },
      },
      logger: pino({ level: 'silent' }),
    });
    const running = await listen(separate);
    try {
      expect(running.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(running.metricsUrl as string);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('# TYPE rampart_requests_total counter');
      // A page whose name was rebound to 127.0.0.1 sends its own name as Host: refused.
      const rebound = await new Promise<number>((resolve, reject) => {
        get(running.metricsUrl as string, { headers: { host: 'evil.example:9464' } }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(rebound).toBe(403);
    } finally {
      await running.close();
    }
    const exposed = await createRampart({
      tools: [echo],
      config: {
        server: { port: 0 },
        storage: { dataDir },
        metrics: { listen: { host: '0.0.0.0', port: 0 } },
        audit: { enabled: false },
      },
      logger: pino({ level: 'silent' }),
    });
    await expect(listen(exposed)).rejects.toThrow(ConfigError);
    await exposed.close();
  });
});
