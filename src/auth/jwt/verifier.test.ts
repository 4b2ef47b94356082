import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RampartError } from '../../core/errors.js';
import { createJwtVerifier, type JwtVerifierOptions } from './verifier.js';

const ISS = 'https://issuer.example';
const AUD = 'https://mcp.example.com/mcp';
const NOW = 1_800_000_000_000; // a fixed clock, in ms

let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let ec: Awaited<ReturnType<typeof generateKeyPair>>;
let attacker: Awaited<ReturnType<typeof generateKeyPair>>;
let rsaJwk: JWK;
let ecJwk: JWK;
let jwksServer: Server;
let jwksUrl: string;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  attacker = await generateKeyPair('RS256', { extractable: true });
  rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
  ecJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    if (req.url === '/down') {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rsaJwk, ecJwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise<void>((r) => jwksServer.close(() => r())));

type Claims = Record<string, unknown>;
const baseClaims = (): Claims => ({
  iss: ISS,
  aud: AUD,
  sub: 'alice',
  scope: 'mcp:read mcp:write',
  client_id: 'client-1',
  iat: NOW / 1000 - 10,
  exp: NOW / 1000 + 300,
});

async function sign(
  claims: Claims = baseClaims(),
  header: Record<string, unknown> = {},
  key = rsa.privateKey,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', ...header } as never)
    .sign(key);
}

/** Signs a header jose's SignJWT refuses to produce (an unknown `crit`). */
async function signRaw(header: Record<string, unknown>, claims: Claims = baseClaims()): Promise<string> {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = await crypto.subtle.sign(
    'RSASSA-PKCS1-v1_5',
    rsa.privateKey as CryptoKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function verifier(overrides: Partial<JwtVerifierOptions> = {}, issuer: Record<string, unknown> = {}) {
  return createJwtVerifier({
    issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [rsaJwk, ecJwk] }, ...issuer }],
    now: () => NOW,
    ...overrides,
  });
}

async function reject(v: ReturnType<typeof verifier>, token: string): Promise<RampartError> {
  try {
    await v.verify({ kind: 'bearer', value: token });
  } catch (error) {
    expect(error).toBeInstanceOf(RampartError);
    return error as RampartError;
  }
  throw new Error('token was accepted');
}

describe('createJwtVerifier: accepts', () => {
  it('a valid RS256 at+jwt and maps claims to a frozen principal', async () => {
    const principal = await verifier().verify({ kind: 'bearer', value: await sign() });
    expect(principal).toMatchObject({
      subject: 'alice',
      issuer: ISS,
      authMethod: 'jwt',
      clientId: 'client-1',
    });
    expect([...principal.scopes]).toEqual(['mcp:read', 'mcp:write']);
    expect(principal.expiresAt).toBe(NOW + 300_000);
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it('an ES256 token and an audience array containing the resource', async () => {
    const token = await new SignJWT({ ...baseClaims(), aud: ['other', AUD] })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1' })
      .sign(ec.privateKey);
    expect((await verifier().verify({ kind: 'bearer', value: token })).subject).toBe('alice');
  });

  it('application/at+jwt, and typ JWT when the issuer relaxes typ', async () => {
    expect(
      (
        await verifier().verify({
          kind: 'bearer',
          value: await sign(baseClaims(), { typ: 'application/at+jwt' }),
        })
      ).subject,
    ).toBe('alice');
    const relaxed = verifier({}, { requiredTyp: false });
    expect(
      (await relaxed.verify({ kind: 'bearer', value: await sign(baseClaims(), { typ: 'JWT' }) })).subject,
    ).toBe('alice');
  });

  it('roles from a configured claim and scp arrays', async () => {
    const v = verifier({}, { rolesClaim: 'cognito:groups' });
    const claims = {
      ...baseClaims(),
      scope: undefined,
      scp: ['mcp:read'],
      'cognito:groups': ['admin', 42, { x: 1 }],
    };
    const principal = await v.verify({ kind: 'bearer', value: await sign(claims) });
    expect([...principal.scopes]).toEqual(['mcp:read']);
    expect([...principal.roles]).toEqual(['admin']);
  });
});

describe('createJwtVerifier: refuses, all with one identical error', () => {
  const cases: Array<[string, () => Promise<string>]> = [
    ['expired', () => sign({ ...baseClaims(), exp: NOW / 1000 - 31 })],
    ['nbf in the future', () => sign({ ...baseClaims(), nbf: NOW / 1000 + 120 })],
    ['iat in the future', () => sign({ ...baseClaims(), iat: NOW / 1000 + 120 })],
    ['no exp', () => sign({ ...baseClaims(), exp: undefined })],
    ['wrong iss', () => sign({ ...baseClaims(), iss: 'https://issuer.example/' })],
    ['unknown iss', () => sign({ ...baseClaims(), iss: 'https://evil.example' })],
    ['no iss', () => sign({ ...baseClaims(), iss: undefined })],
    ['wrong aud', () => sign({ ...baseClaims(), aud: 'https://other.example/mcp' })],
    ['aud that extends the resource', () => sign({ ...baseClaims(), aud: `${AUD}/x` })],
    ['aud that is a prefix of the resource', () => sign({ ...baseClaims(), aud: 'https://mcp.example.com' })],
    ['no aud', () => sign({ ...baseClaims(), aud: undefined })],
    ['no sub', () => sign({ ...baseClaims(), sub: undefined })],
    ['typ missing', () => sign(baseClaims(), { typ: undefined })],
    ['typ JWT', () => sign(baseClaims(), { typ: 'JWT' })],
    [
      'unknown crit',
      () => signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', crit: ['x-custom'], 'x-custom': 1 }),
    ],
    ['signed by another key with the same kid', () => sign(baseClaims(), {}, attacker.privateKey)],
    ['unknown kid', () => sign(baseClaims(), { kid: 'nope' }, attacker.privateKey)],
    [
      'an embedded jwk header with the attacker key',
      async () =>
        sign(baseClaims(), { kid: undefined, jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey),
    ],
    ['alg none', async () => `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(baseClaims())}.`],
    [
      'alg none with a signature part',
      async () => `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(baseClaims())}.AAAA`,
    ],
    [
      'HS256 signed with the RSA public key (algorithm confusion)',
      async () => {
        const pem = await exportSPKI(rsa.publicKey);
        const input = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid: 'rsa-1' })}.${b64url(baseClaims())}`;
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
    ],
    ['RS256 when only ES256 is allowed', async () => sign()],
    ['oversized', async () => `${await sign({ ...baseClaims(), pad: 'x'.repeat(9000) })}`],
    ['garbage segments', async () => 'abc.def.ghi'],
    [
      'a tampered payload',
      async () => {
        const [h, , s] = (await sign()).split('.');
        return `${h}.${b64url({ ...baseClaims(), sub: 'admin' })}.${s}`;
      },
    ],
  ];

  it.each(cases)('%s', async (name, make) => {
    const v =
      name === 'RS256 when only ES256 is allowed' ? verifier({}, { algorithms: ['ES256'] }) : verifier();
    const token = await make();
    const error = await reject(v, token);
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    expect(error.message).toBe('The access token or API key is invalid');
    expect(error.message).not.toContain(token.slice(0, 20));
  });
});

describe('createJwtVerifier: keys over HTTP', () => {
  it('fetches the JWKS, never follows jku, and refetches for an unknown kid at a bounded rate', async () => {
    const now = NOW;
    const fetched: string[] = [];
    const v = createJwtVerifier({
      issuers: [{ issuer: ISS, audience: AUD, jwksUrl }],
      now: () => now,
      jwksCooldownMs: 30_000,
      fetch: (input, init) => {
        fetched.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
    const withJku = await sign(baseClaims(), { jku: 'http://127.0.0.1:1/evil-jwks' });
    expect((await v.verify({ kind: 'bearer', value: withJku })).subject).toBe('alice');
    expect(fetched).toEqual([jwksUrl]);
    const unknownKid = await sign(baseClaims(), { kid: 'rotated-away' });
    await reject(v, unknownKid);
    await reject(v, await sign({ ...baseClaims(), sub: 'other' }, { kid: 'rotated-away-2' }));
    expect(fetched.length).toBeLessThanOrEqual(2);
  });

  it('fails closed when the JWKS endpoint is down', async () => {
    const v = createJwtVerifier({
      issuers: [{ issuer: ISS, audience: AUD, jwksUrl: jwksUrl.replace('/jwks', '/down') }],
      now: () => NOW,
    });
    expect((await reject(v, await sign())).code).toBe('ERR_AUTH_INVALID_TOKEN');
  });
});

describe('createJwtVerifier: cache', () => {
  it('serves a repeated token from the cache and never past exp', async () => {
    let now = NOW;
    const v = verifier({ now: () => now, cache: { maxEntries: 2, maxTtlSeconds: 600 } });
    const token = await sign({ ...baseClaims(), exp: NOW / 1000 + 5 });
    await v.verify({ kind: 'bearer', value: token });
    await v.verify({ kind: 'bearer', value: token });
    expect(v.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1, cacheSize: 1 });
    now = NOW + 5_000; // the cache entry ends at exp; past exp + leeway the token is refused
    expect((await v.verify({ kind: 'bearer', value: token })).subject).toBe('alice');
    expect(v.stats().cacheMisses).toBe(2);
    now = NOW + 5_000 + 31_000;
    await reject(v, token);
  });

  it('keeps at most maxEntries tokens', async () => {
    const v = verifier({ cache: { maxEntries: 2, maxTtlSeconds: 60 } });
    for (const sub of ['a', 'b', 'c', 'd'])
      await v.verify({ kind: 'bearer', value: await sign({ ...baseClaims(), sub }) });
    expect(v.stats().cacheSize).toBe(2);
  });
});

describe('createJwtVerifier: configuration', () => {
  it.each([
    [{ issuers: [] }, /at least one issuer/],
    [{ issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [] }, algorithms: ['HS256'] }] }, /HS256/],
    [{ issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [] }, algorithms: ['none'] }] }, /none/],
    [
      { issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [] }, clockToleranceSeconds: 120 }] },
      /between 0 and 60/,
    ],
    [{ issuers: [{ issuer: ISS, audience: AUD }] }, /exactly one/],
  ])('refuses %j', (options, message) => {
    expect(() => createJwtVerifier(options as JwtVerifierOptions)).toThrow(message);
  });
});

describe('createJwtVerifier: property', () => {
  it('never accepts and only throws ERR_AUTH_INVALID_TOKEN for arbitrary strings', async () => {
    const v = verifier();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join('.')),
        ),
        async (value) => {
          const error = await reject(v, value);
          expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
        },
      ),
      { numRuns: 300 },
    );
  });
});
