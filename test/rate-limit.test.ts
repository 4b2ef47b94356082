import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateApiKey } from '../src/auth/api-keys/format.js';
import { ConfigError, createRampart, defineTool, type Rampart } from '../src/index.js';
import { mintKeys } from './helpers/keys.js';
import { modernRequest } from './helpers/mcp.js';

// Rate limits through the library (no socket): `remoteAddress` stands in for the peer address.
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-rate-'));
const URL_BASE = 'http://127.0.0.1:8787/mcp';
let rampart: Rampart;
let keys: { aliceA: string; aliceB: string; bob: string; carol: string; dave: string; eve: string };

const echo = defineTool({
  name: 'echo',
  description: 'Echoes',
  scope: 'mcp:read',
  input: z.object({ text: z.string().max(100) }),
  handler: ({ text }) => text,
});
const nuke = defineTool({
  name: 'nuke',
  description: 'Destructive, rare',
  scope: 'mcp:read',
  rateLimit: '2/hour',
  input: z.object({}),
  handler: () => 'boom',
});

beforeAll(async () => {
  const read = ['mcp:read'];
  keys = await mintKeys(dataDir, {
    aliceA: { user: 'alice', scopes: read },
    aliceB: { user: 'alice', scopes: read },
    bob: { user: 'bob', scopes: read },
    carol: { user: 'carol', scopes: read },
    dave: { user: 'dave', scopes: read },
    eve: { user: 'eve', scopes: read },
  });
  rampart = await createRampart({
    tools: [echo, nuke],
    config: {
      storage: { dataDir },
      rateLimit: { perPrincipal: '6/min', perTool: '100/min', failedAuthPerIp: '3/min' },
    },
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await rampart?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let nextId = 1;
async function call(
  key: string | undefined,
  name: string,
  ip = '198.51.100.1',
  headers: Record<string, string> = {},
) {
  const id = nextId++;
  const args = name === 'echo' ? { text: 'hi' } : {};
  const res = await rampart.fetch(
    modernRequest(URL_BASE, key, 'tools/call', { name, arguments: args }, { id, headers }),
    {
      remoteAddress: ip,
    },
  );
  return { id, status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

describe('per principal', () => {
  it('refuses the request after the budget with 429, Retry-After and the request id', async () => {
    for (let i = 0; i < 6; i++) expect((await call(keys.bob, 'echo')).status).toBe(200);
    const refused = await call(keys.bob, 'echo');
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('10');
    expect(refused.body).toMatchObject({
      jsonrpc: '2.0',
      id: refused.id,
      error: { code: -31429, data: { retry_after: 10, code: 'ERR_RATE_LIMITED' } },
    });
  });

  it('charges the principal before reading the body: GETs and unreadable bodies count', async () => {
    const post = (body: string, contentType = 'application/json') =>
      rampart.fetch(
        new Request(URL_BASE, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys.dave}`, 'content-type': contentType },
          body,
        }),
        { remoteAddress: '198.51.100.9' },
      );
    const get = () =>
      rampart.fetch(new Request(URL_BASE, { headers: { authorization: `Bearer ${keys.dave}` } }), {
        remoteAddress: '198.51.100.9',
      });
    expect((await get()).status).toBe(405);
    expect((await get()).status).toBe(405);
    expect((await post('{"jsonrpc":"2.0","id":')).status).toBe(400);
    expect((await post('{"jsonrpc":"2.0","id":')).status).toBe(400);
    expect((await post('{}', 'text/plain')).status).toBe(415);
    expect((await call(keys.dave, 'echo', '198.51.100.9')).status).toBe(200);
    // Six requests: the budget is spent whatever they were.
    expect((await get()).status).toBe(429);
    const refused = await call(keys.dave, 'echo', '198.51.100.9');
    expect(refused.status).toBe(429);
    // Refused before the body was parsed, and still answered with the request's id.
    expect(refused.body).toMatchObject({ jsonrpc: '2.0', id: refused.id, error: { code: -31429 } });
  });

  it('shares one budget across a principal’s API keys, and keeps principals apart', async () => {
    for (let i = 0; i < 3; i++) expect((await call(keys.aliceA, 'echo')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call(keys.aliceB, 'echo')).status).toBe(200);
    expect((await call(keys.aliceA, 'echo')).status).toBe(429);
    expect((await call(keys.aliceB, 'echo')).status).toBe(429);
    expect((await call(keys.carol, 'echo')).status).toBe(200);
  });
});

describe('per principal and tool', () => {
  it('applies a tool’s own rate on top of the principal budget', async () => {
    const limited = await createRampart({
      tools: [echo, nuke],
      config: { storage: { dataDir }, rateLimit: { perPrincipal: null } },
      logger: pino({ level: 'silent' }),
    });
    try {
      const nukeCall = (key: string) =>
        limited.fetch(modernRequest(URL_BASE, key, 'tools/call', { name: 'nuke', arguments: {} }));
      expect((await nukeCall(keys.carol)).status).toBe(200);
      expect((await nukeCall(keys.carol)).status).toBe(200);
      const third = await nukeCall(keys.carol);
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after'))).toBe(1800);
      // Other tools and other principals are unaffected.
      const echoCall = await limited.fetch(
        modernRequest(URL_BASE, keys.carol, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
      );
      expect(echoCall.status).toBe(200);
      expect((await nukeCall(keys.bob)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('refuses config rates for tools that do not exist', async () => {
    await expect(
      createRampart({
        tools: [echo],
        config: { storage: { dataDir }, rateLimit: { tools: { ehco: '1/min' } } },
        logger: pino({ level: 'silent' }),
      }),
    ).rejects.toThrow(ConfigError);
  });
});

describe('failed authentication per client address', () => {
  it('throttles an address that keeps presenting bad credentials, even when it finally has a good one', async () => {
    const ip = '203.0.113.50';
    for (let i = 0; i < 3; i++) expect((await call('rmp_not_a_real_key', 'echo', ip)).status).toBe(401);
    const blocked = await call(keys.carol, 'echo', ip);
    expect(blocked.status).toBe(429);
    expect(blocked.retryAfter).toBe('20');
    // Refused before authentication, and still answered with the request's id.
    expect(blocked.body).toMatchObject({
      jsonrpc: '2.0',
      id: blocked.id,
      error: { code: -31429, data: { retry_after: 20, code: 'ERR_RATE_LIMITED' } },
    });
    // Another address is not affected; neither are requests without any credential.
    expect((await call(keys.carol, 'echo', '203.0.113.51')).status).toBe(200);
  });

  it('refuses a throttled address whatever its body: malformed, a batch, or too large to read', async () => {
    const ip = '203.0.113.55';
    for (let i = 0; i < 3; i++) expect((await call('rmp_not_a_real_key', 'echo', ip)).status).toBe(401);
    for (const body of [
      '{"jsonrpc":"2.0","id":',
      '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
      'x'.repeat(70_000),
    ]) {
      const res = await rampart.fetch(
        new Request(URL_BASE, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys.carol}`, 'content-type': 'application/json' },
          body,
        }),
        { remoteAddress: ip },
      );
      expect(res.status).toBe(429);
      const answer = (await res.json()) as Record<string, unknown>;
      expect(answer).not.toHaveProperty('id');
      expect(answer).toMatchObject({ error: { code: -31429 } });
    }
  });

  it('ignores X-Forwarded-For when no proxy is trusted: a forged header earns no fresh budget', async () => {
    const ip = '203.0.113.60';
    for (let i = 0; i < 3; i++) {
      const res = await call('rmp_bad', 'echo', ip, { 'x-forwarded-for': `10.0.0.${i}` });
      expect(res.status).toBe(401);
    }
    expect((await call('rmp_bad', 'echo', ip, { 'x-forwarded-for': '10.9.9.9' })).status).toBe(429);
  });

  it('charges before authenticating: concurrent bad credentials get exactly the budget', async () => {
    // Checked first and charged after, 60 concurrent guesses all passed the check.
    const statuses = await Promise.all(
      Array.from(
        { length: 60 },
        async () => (await call(generateApiKey().key, 'echo', '203.0.113.80')).status,
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(57);
  });

  it('counts a fan-out of one fresh credential as one attempt, so a good client is not refused', async () => {
    // Five concurrent calls with a key no cache knows yet: each is checked asynchronously, and
    // charging each would have refused two of them (budget 3).
    const statuses = await Promise.all(
      Array.from({ length: 5 }, async () => (await call(keys.eve, 'echo', '203.0.113.81')).status),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('never refuses good credentials for a burst: six users behind one address, first requests at once', async () => {
    const users: Record<string, { user: string; scopes: string[] }> = {};
    for (let i = 0; i < 6; i++) users[`k${i}`] = { user: `nat${i}`, scopes: ['mcp:read'] };
    const natKeys = await mintKeys(dataDir, users);
    const statuses = await Promise.all(
      Object.values(natKeys).map(async (key) => (await call(key, 'echo', '203.0.113.82')).status),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    // Bad ones in the same burst still get exactly the budget's worth of answers.
    const mixed = await Promise.all(
      Array.from(
        { length: 8 },
        async () => (await call(generateApiKey().key, 'echo', '203.0.113.82')).status,
      ),
    );
    expect(mixed.filter((s) => s === 401)).toHaveLength(3);
    expect(mixed.filter((s) => s === 429)).toHaveLength(5);
  });

  it('charges failed logins per IPv6 /64: fresh addresses of one host earn no fresh budget', async () => {
    for (let host = 1; host <= 3; host++) {
      expect((await call('rmp_not_a_real_key', 'echo', `2001:db8:7:7::${host}`)).status).toBe(401);
    }
    expect((await call('rmp_not_a_real_key', 'echo', '2001:db8:7:7:a:b:c:d')).status).toBe(429);
    expect((await call(keys.carol, 'echo', '::ffff:203.0.113.90')).status).toBe(200);
    expect((await call(keys.carol, 'echo', '2001:db8:7:8::1')).status).toBe(200);
  });

  it('does not count requests without a credential (the 401 discovery step)', async () => {
    const ip = '203.0.113.70';
    for (let i = 0; i < 5; i++) expect((await call(undefined, 'echo', ip)).status).toBe(401);
    expect((await call(keys.carol, 'echo', ip)).status).toBe(200);
  });
});

describe('identity provider outage', () => {
  it('does not count tokens refused because the JWKS could not be fetched', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.stringify({
      keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }],
    });
    let up = false;
    const idp = createServer((_req, res) => {
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(up ? jwks : '');
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const port = (idp.address() as AddressInfo).port;
    const withIdp = await createRampart({
      tools: [echo],
      config: {
        storage: { dataDir },
        audit: { enabled: false },
        auth: {
          jwt: {
            jwksCooldownMs: 0,
            issuers: [{ issuer: 'https://idp.example', jwksUrl: `http://127.0.0.1:${port}/jwks` }],
          },
        },
        rateLimit: { failedAuthPerIp: '3/min' },
      },
      logger: pino({ level: 'silent' }),
    });
    let jti = 0;
    const go = async () => {
      const token = await new SignJWT({ sub: 'erin', scope: 'mcp:read', jti: String(jti++) })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
        .setIssuer('https://idp.example')
        .setAudience(URL_BASE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(pair.privateKey);
      const res = await withIdp.fetch(
        modernRequest(URL_BASE, token, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
        { remoteAddress: '198.51.100.20' },
      );
      return res.status;
    };
    try {
      for (let i = 0; i < 4; i++) expect(await go()).toBe(401);
      up = true;
      // The provider is back: the address was not locked out by its outage.
      expect(await go()).toBe(200);
    } finally {
      await withIdp.close();
      await new Promise((resolve) => idp.close(resolve));
    }
  });
});

describe('recovery', () => {
  it('admits the client again once Retry-After has passed', async () => {
    const quick = await createRampart({
      tools: [echo],
      config: { storage: { dataDir }, rateLimit: { perPrincipal: '2/2s' } },
      logger: pino({ level: 'silent' }),
    });
    try {
      const go = () =>
        quick.fetch(
          modernRequest(URL_BASE, keys.bob, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
        );
      expect((await go()).status).toBe(200);
      expect((await go()).status).toBe(200);
      const refused = await go();
      expect(refused.status).toBe(429);
      const wait = Number(refused.headers.get('retry-after'));
      expect(wait).toBe(1);
      await new Promise((r) => setTimeout(r, wait * 1000 + 20));
      expect((await go()).status).toBe(200);
    } finally {
      await quick.close();
    }
  });
});

/** Two instances' configuration over the test Redis, with the URL from a secret reference. */
function redisConfig(limits: Record<string, string>) {
  process.env.RAMPART_TEST_REDIS_URL = 'redis://127.0.0.1:6379/0';
  return {
    storage: { dataDir },
    audit: { enabled: false },
    rateLimit: {
      ...limits,
      store: 'redis' as const,
      redis: {
        url: 'secret://env/RAMPART_TEST_REDIS_URL',
        keyPrefix: `rampart-test:${Date.now()}:${Math.random()}:`,
      },
    },
  };
}

describe('shared store (Redis)', () => {
  it('holds one budget across two instances, with the Redis URL from a secret reference', async () => {
    const config = redisConfig({ perPrincipal: '3/min' });
    const a = await createRampart({ tools: [echo], config, logger: pino({ level: 'silent' }) });
    const b = await createRampart({ tools: [echo], config, logger: pino({ level: 'silent' }) });
    try {
      const go = (r: Rampart) =>
        r.fetch(
          modernRequest(URL_BASE, keys.carol, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
        );
      expect((await go(a)).status).toBe(200);
      expect((await go(b)).status).toBe(200);
      expect((await go(a)).status).toBe(200);
      const refused = await go(b);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBe(20);
    } finally {
      await a.close();
      await b.close();
      delete process.env.RAMPART_TEST_REDIS_URL;
    }
  });

  it('charges failed logins atomically across instances: concurrent bad keys get exactly the budget', async () => {
    const config = redisConfig({ failedAuthPerIp: '3/min' });
    const a = await createRampart({ tools: [echo], config, logger: pino({ level: 'silent' }) });
    const b = await createRampart({ tools: [echo], config, logger: pino({ level: 'silent' }) });
    try {
      const go = async (r: Rampart, key: string) =>
        (
          await r.fetch(
            modernRequest(URL_BASE, key, 'tools/call', { name: 'echo', arguments: { text: 'x' } }),
            {
              remoteAddress: '203.0.113.99',
            },
          )
        ).status;
      // A good key first: its attempt is given back.
      expect(await go(a, keys.carol)).toBe(200);
      const statuses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => go(i % 2 ? a : b, generateApiKey().key)),
      );
      expect(statuses.filter((s) => s === 401)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(57);
    } finally {
      await a.close();
      await b.close();
      delete process.env.RAMPART_TEST_REDIS_URL;
    }
  });
});
