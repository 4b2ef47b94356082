import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RampartError } from '../../core/errors.js';
import { MAX_JWKS_BYTES } from './jwks-fetch.js';
import type { JwtVerifierOptions } from './options.js';
import { JwtRejection } from './rejection.js';
import { createJwtVerifier, type JwtVerifier } from './verifier.js';

const ISS = 'https://issuer.example';
const AUD = 'https://a.example/mcp';
const NOW = 1_800_000_000_000;

let key1: { privateKey: CryptoKey; publicKey: CryptoKey };
let key2: { privateKey: CryptoKey; publicKey: CryptoKey };
let jwk1: JWK;
let jwk2: JWK;
let privateJwk: JWK;
let served: JWK[] = [];
let flakyDown = true;
const hits = new Map<string, number>();
let server: Server;
let base: string;
let closedPortUrl: string;

function route(path: string, res: ServerResponse): void {
  const json = (body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  switch (path) {
    case '/jwks':
      json({ keys: served });
      return;
    case '/flaky':
      if (flakyDown) res.writeHead(503).end();
      else json({ keys: served });
      return;
    case '/down':
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      return;
    case '/redirect':
      res.writeHead(302, { location: '/jwks' }).end();
      return;
    case '/not-json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>');
      return;
    case '/private':
      json({ keys: [privateJwk] });
      return;
    case '/huge': {
      // Chunked, no Content-Length: the cap must hold while streaming.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[],"pad":"');
      const chunk = 'x'.repeat(64 * 1024);
      for (let sent = 0; sent <= MAX_JWKS_BYTES; sent += chunk.length) res.write(chunk);
      res.end('"}');
      return;
    }
    case '/huge-declared':
      json({ keys: [], pad: 'x'.repeat(MAX_JWKS_BYTES) });
      return;
    case '/slow':
      return; // never answers
    case '/slow-body':
      res.writeHead(200, { 'content-type': 'application/json' }).write('{"keys":[');
      return; // the body never ends
    default:
      res.writeHead(404).end();
  }
}

beforeAll(async () => {
  key1 = await generateKeyPair('ES256');
  key2 = await generateKeyPair('ES256', { extractable: true });
  jwk1 = { ...(await exportJWK(key1.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  jwk2 = { ...(await exportJWK(key2.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' };
  privateJwk = { ...(await exportJWK(key2.privateKey)), kid: 'k2' };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    route(path, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPortUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  hits.clear();
  served = [jwk1];
  flakyDown = true;
});

function sign(kid: string, key = key1.privateKey, header: Record<string, unknown> = {}, sub = 'alice') {
  return new SignJWT({ iss: ISS, aud: AUD, sub, exp: NOW / 1000 + 300 })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header })
    .sign(key);
}

function remote(
  path: string,
  overrides: Partial<JwtVerifierOptions> = {},
  fetched: string[] = [],
): JwtVerifier {
  return createJwtVerifier({
    issuers: [{ issuer: ISS, audience: AUD, jwksUrl: path.startsWith('http') ? path : `${base}${path}` }],
    now: () => NOW,
    fetch: (input, init) => {
      fetched.push(String(input));
      return fetch(input, init);
    },
    ...overrides,
  });
}

async function reason(v: JwtVerifier, token: string): Promise<string> {
  return (await rejectionOf(v, token)).reason;
}

async function rejectionOf(v: JwtVerifier, token: string): Promise<JwtRejection> {
  const error = await v.verify({ kind: 'bearer', value: token }).then(
    () => {
      throw new Error('the token was accepted');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RampartError);
  expect((error as RampartError).code).toBe('ERR_AUTH_INVALID_TOKEN');
  expect((error as RampartError).cause).toBeInstanceOf(JwtRejection);
  return (error as RampartError).cause as JwtRejection;
}

const bearer = (value: string) => ({ kind: 'bearer' as const, value });

describe('JWKS over HTTP', () => {
  it('fetches the key set once and never follows jku or x5u', async () => {
    const fetched: string[] = [];
    const v = remote('/jwks', {}, fetched);
    const token = await sign('k1', key1.privateKey, { jku: `${base}/evil`, x5u: `${base}/evil` });
    expect((await v.verify(bearer(token))).subject).toBe('alice');
    expect((await v.verify(bearer(await sign('k1', key1.privateKey, {}, 'bob')))).subject).toBe('bob');
    expect(fetched).toEqual([`${base}/jwks`]);
    expect(hits.get('/evil')).toBeUndefined();
    expect(hits.get('/jwks')).toBe(1);
  });

  it('checks the algorithm and issuer before any key is fetched', async () => {
    const fetched: string[] = [];
    const v = remote('/jwks', {}, fetched);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const body = b64({ iss: ISS, aud: AUD, sub: 'alice', exp: NOW / 1000 + 300 });
    for (const alg of ['none', 'HS256', 'RS384', 'ES256K']) {
      const token = `${b64({ alg, typ: 'at+jwt', kid: 'k1' })}.${body}.AAAA`;
      expect(await reason(v, token)).toBe('alg_not_allowed');
    }
    const stranger = `${b64({ alg: 'ES256', kid: 'k1' })}.${b64({ iss: 'https://evil.example' })}.AAAA`;
    expect(await reason(v, stranger)).toBe('unknown_issuer');
    expect(fetched).toEqual([]);
  });

  it('shares one fetch between concurrent first requests', async () => {
    const v = remote('/jwks');
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sign('k1', key1.privateKey, {}, `u${i}`)),
    );
    const principals = await Promise.all(tokens.map((t) => v.verify(bearer(t))));
    expect(principals.map((p) => p.subject)).toEqual(tokens.map((_, i) => `u${i}`));
    expect(hits.get('/jwks')).toBe(1);
  });

  it('refetches for an unknown kid at most once per cooldown', async () => {
    const v = remote('/jwks', { jwksCooldownMs: 1000 });
    await v.verify(bearer(await sign('k1')));
    expect(hits.get('/jwks')).toBe(1);

    served = [jwk1, jwk2]; // the issuer rotates in a new key
    const rotated = await sign('k2', key2.privateKey);
    expect(await reason(v, rotated)).toBe('unknown_key'); // still cooling down: no fetch
    expect(await reason(v, await sign('ghost'))).toBe('unknown_key');
    expect(hits.get('/jwks')).toBe(1);

    await sleep(1050);
    expect((await v.verify(bearer(rotated))).subject).toBe('alice'); // one refetch finds it
    expect(hits.get('/jwks')).toBe(2);
    for (let i = 0; i < 5; i++) expect(await reason(v, await sign(`ghost-${i}`))).toBe('unknown_key');
    expect(hits.get('/jwks')).toBe(2);

    await sleep(1050);
    expect(await reason(v, await sign('ghost'))).toBe('unknown_key');
    expect(hits.get('/jwks')).toBe(3);
  });

  it('with the default 30 s cooldown, a flood of unknown kids costs no fetch', async () => {
    const v = remote('/jwks');
    await v.verify(bearer(await sign('k1')));
    for (let i = 0; i < 10; i++) expect(await reason(v, await sign(`kid-${i}`))).toBe('unknown_key');
    expect(hits.get('/jwks')).toBe(1);
  });
});

describe('JWKS failures fail closed', () => {
  const failing: Array<[string, string, RegExp, Partial<JwtVerifierOptions>?]> = [
    ['HTTP 500', '/down', /answered HTTP 500/],
    ['a redirect (not followed)', '/redirect', /answered HTTP 302/],
    ['a body that is not JSON', '/not-json', /not JSON/],
    ['a set holding a private key', '/private', /private or symmetric key/],
    ['a chunked body over the size cap', '/huge', /too large/],
    ['a declared body over the size cap', '/huge-declared', /too large/],
    ['no answer before the timeout', '/slow', /ERR_JWKS_TIMEOUT/, { jwksTimeoutMs: 200 }],
    ['a body that stalls past the timeout', '/slow-body', /ERR_JWKS_TIMEOUT/, { jwksTimeoutMs: 200 }],
  ];

  it.each(failing)('%s → jwks_unavailable', async (_name, path, detail, overrides = {}) => {
    const started = Date.now();
    const v = remote(path, overrides);
    const rejection = await rejectionOf(v, await sign('k1'));
    expect(rejection.reason).toBe('jwks_unavailable');
    expect(rejection.detail).toMatch(detail);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(hits.get('/jwks')).toBeUndefined(); // a redirect is never followed
  });

  it('a refused connection → jwks_unavailable', async () => {
    expect(await reason(remote(closedPortUrl), await sign('k1'))).toBe('jwks_unavailable');
  });

  it('backs off after a failure for the cooldown, then recovers', async () => {
    let now = NOW;
    const fetched: string[] = [];
    const v = remote('/flaky', { now: () => now, jwksCooldownMs: 30_000 }, fetched);
    const token = await sign('k1');
    expect((await rejectionOf(v, token)).detail).toMatch(/answered HTTP 503/);
    expect(fetched).toHaveLength(1);
    flakyDown = false;
    now += 29_999;
    for (let i = 0; i < 5; i++) expect((await rejectionOf(v, token)).detail).toMatch(/backing off/);
    expect(fetched).toHaveLength(1); // no request to the endpoint while backing off
    now += 1;
    expect((await v.verify(bearer(token))).subject).toBe('alice');
    expect(fetched).toHaveLength(2);
    expect(hits.get('/flaky')).toBe(2);
  });

  it('uses the global fetch when none is injected', async () => {
    const v = createJwtVerifier({
      issuers: [{ issuer: ISS, audience: AUD, jwksUrl: `${base}/jwks` }],
      now: () => NOW,
    });
    expect((await v.verify(bearer(await sign('k1')))).subject).toBe('alice');
    expect(hits.get('/jwks')).toBe(1);
  });
});
