import fc from 'fast-check';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../core/error-codes.js';
import { RampartError } from '../../core/errors.js';
import type { Principal } from '../principal.js';
import type { JwtVerifierOptions } from './options.js';
import { JwtRejection } from './rejection.js';
import { createJwtVerifier, type JwtVerifier } from './verifier.js';

const ISS = 'https://issuer.example';
const ISS_B = 'https://other-issuer.example';
const AUD = 'https://a.example/mcp';
const NOW = 1_800_000_000_000; // fixed clock, epoch ms
const T = NOW / 1000;

let privateKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'ec-1', alg: 'ES256' };
});

type Claims = Record<string, unknown>;
const claims = (extra: Claims = {}): Claims => ({
  iss: ISS,
  aud: AUD,
  sub: 'alice',
  scope: 'mcp:read mcp:write',
  exp: T + 300,
  ...extra,
});

const sign = (payload: Claims = claims()) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1' }).sign(privateKey);

const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function verifier(overrides: Partial<JwtVerifierOptions> = {}) {
  return createJwtVerifier({
    issuers: [
      { issuer: ISS, audience: AUD, jwks: { keys: [jwk] } },
      { issuer: ISS_B, audience: AUD, jwks: { keys: [jwk] }, algorithms: ['ES256'] },
    ],
    now: () => NOW,
    ...overrides,
  });
}

const bearer = (value: string) => ({ kind: 'bearer' as const, value });

async function refusal(v: JwtVerifier, token: string): Promise<{ error: RampartError; reason: string }> {
  const error = await v.verify(bearer(token)).then(
    () => {
      throw new Error('the token was accepted');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RampartError);
  expect((error as RampartError).cause).toBeInstanceOf(JwtRejection);
  return { error: error as RampartError, reason: ((error as RampartError).cause as JwtRejection).reason };
}

describe('verified-token cache', () => {
  it('answers a repeated token from the cache', async () => {
    const v = verifier();
    const token = await sign();
    const first = await v.verify(bearer(token));
    const second = await v.verify(bearer(token));
    expect(second).toEqual(first);
    expect(v.stats()).toEqual({ cacheHits: 1, cacheMisses: 1, cacheSize: 1 });
  });

  it('never serves a token past exp, and then re-verifies it', async () => {
    let now = NOW;
    const v = verifier({ now: () => now, cache: { maxTtlSeconds: 600 } });
    const token = await sign(claims({ exp: T + 5 }));
    await v.verify(bearer(token));
    now = NOW + 4999;
    await v.verify(bearer(token));
    expect(v.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 1 });
    now = NOW + 5000; // at exp the entry is gone; within the tolerance the token still verifies
    await v.verify(bearer(token));
    expect(v.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 2 });
    now = NOW + 5000 + 30_000;
    expect((await refusal(v, token)).reason).toBe('expired');
    expect(v.stats().cacheHits).toBe(1);
  });

  it('re-verifies after maxTtlSeconds even when exp is later', async () => {
    let now = NOW;
    const v = verifier({ now: () => now, cache: { maxTtlSeconds: 60 } });
    const token = await sign();
    await v.verify(bearer(token));
    now = NOW + 59_999;
    await v.verify(bearer(token));
    now = NOW + 60_000;
    await v.verify(bearer(token));
    expect(v.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 2 });
  });

  it('holds at most maxEntries tokens, evicting the least recently used', async () => {
    const v = verifier({ cache: { maxEntries: 2 } });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => sign(claims({ sub }))));
    for (const token of [a, b, a, c] as string[]) await v.verify(bearer(token));
    expect(v.stats()).toEqual({ cacheHits: 1, cacheMisses: 3, cacheSize: 2 });
    await v.verify(bearer(a as string)); // kept: it was used after b
    expect(v.stats().cacheHits).toBe(2);
    await v.verify(bearer(b as string)); // evicted when c came in
    expect(v.stats()).toEqual({ cacheHits: 2, cacheMisses: 4, cacheSize: 2 });
  });

  it('is off with maxEntries 0', async () => {
    const v = verifier({ cache: { maxEntries: 0 } });
    const token = await sign();
    await v.verify(bearer(token));
    await v.verify(bearer(token));
    expect(v.stats()).toEqual({ cacheHits: 0, cacheMisses: 2, cacheSize: 0 });
  });

  it('cannot be poisoned through a mutated principal', async () => {
    const v = verifier();
    const token = await sign();
    const first = await v.verify(bearer(token));
    expect(() => (first.scopes as Set<string>).add('mcp:admin')).toThrow(TypeError);
    expect(() => (first.roles as Set<string>).clear()).toThrow(TypeError);
    expect(() => (first.scopes as Set<string>).delete('mcp:read')).toThrow(TypeError);
    const again = await v.verify(bearer(token));
    expect(again).toBe(first); // one frozen principal per cached token
    expect(again.scopes.has('mcp:admin')).toBe(false);
    expect(again.scopes.has('mcp:read')).toBe(true);
  });

  it('is emptied by close()', async () => {
    const v = verifier();
    await v.verify(bearer(await sign()));
    await v.close?.();
    expect(v.stats().cacheSize).toBe(0);
  });
});

describe('createJwtVerifier on arbitrary input', () => {
  const b64 = (arb: fc.Arbitrary<unknown>) => arb.map((value) => b64url(JSON.stringify(value) ?? 'null'));
  const header = fc.record(
    {
      alg: fc.constantFrom('RS256', 'ES256', 'PS256', 'EdDSA', 'HS256', 'none', 'RS384'),
      typ: fc.constantFrom('at+jwt', 'JWT', 'application/at+jwt'),
      kid: fc.constantFrom('rsa-1', 'ec-1', 'x'),
      crit: fc.array(fc.string(), { maxLength: 2 }),
      jwk: fc.jsonValue(),
    },
    { requiredKeys: ['alg'] },
  );
  const payload = fc.record(
    {
      iss: fc.constantFrom(ISS, ISS_B, '__proto__', 'x'),
      aud: fc.oneof(fc.constant(AUD), fc.array(fc.string())),
      sub: fc.jsonValue(),
      exp: fc.oneof(fc.integer(), fc.double(), fc.string()),
      nbf: fc.jsonValue(),
      iat: fc.jsonValue(),
      scope: fc.jsonValue(),
    },
    { requiredKeys: ['iss'] },
  );
  const tokens = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 9000 }),
    fc.array(fc.base64String(), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('.')),
    fc
      .tuple(b64(fc.jsonValue()), b64(fc.jsonValue()), fc.base64String())
      .map((parts) => parts.join('.').replaceAll('=', '')),
    fc
      .tuple(b64(header), b64(payload), fc.uint8Array({ maxLength: 300 }))
      .map(([h, p, s]) => `${h}.${p}.${Buffer.from(s).toString('base64url')}`),
  );

  it('never throws anything but ERR_AUTH_INVALID_TOKEN with the fixed message', async () => {
    const v = verifier();
    await fc.assert(
      fc.asyncProperty(tokens, async (value) => {
        const { error } = await refusal(v, value);
        expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
        expect(error.message).toBe(ERROR_CODES.ERR_AUTH_INVALID_TOKEN.message);
      }),
      { numRuns: 500 },
    );
  });
});

describe('createJwtVerifier on validly signed tokens with hostile claims', () => {
  const hostile = fc.record(
    {
      sub: fc.oneof(fc.string(), fc.jsonValue()),
      scope: fc.oneof(fc.string(), fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 400 })),
      scp: fc.oneof(fc.string(), fc.jsonValue()),
      roles: fc.oneof(fc.string(), fc.array(fc.oneof(fc.string(), fc.jsonValue()), { maxLength: 400 })),
      client_id: fc.jsonValue(),
      azp: fc.jsonValue(),
      aud: fc.oneof(fc.constant(AUD), fc.jsonValue()),
      exp: fc.oneof(fc.constant(T + 300), fc.jsonValue()),
      nbf: fc.jsonValue(),
      iat: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );

  it('keeps expiresAt finite for an exp whose milliseconds overflow (found by the property below)', async () => {
    const v = createJwtVerifier({
      issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [jwk] } }],
      now: () => NOW,
      cache: { maxEntries: 0 },
    });
    const principal = await v.verify(bearer(await sign({ ...claims(), exp: 1.797693134862316e305 })));
    expect(principal.expiresAt).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('either yields a frozen principal of bounded string sets or refuses with the one error', async () => {
    const v = createJwtVerifier({
      issuers: [{ issuer: ISS, audience: AUD, jwks: { keys: [jwk] }, rolesClaim: 'roles' }],
      now: () => NOW,
      cache: { maxEntries: 0 },
    });
    await fc.assert(
      fc.asyncProperty(hostile, async (extra) => {
        const token = await sign({ ...claims(), ...extra });
        const outcome = await v.verify(bearer(token)).catch((e: unknown) => e);
        if (outcome instanceof Error) {
          expect(outcome).toBeInstanceOf(RampartError);
          expect((outcome as RampartError).code).toBe('ERR_AUTH_INVALID_TOKEN');
          return;
        }
        const principal = outcome as Principal;
        expect(Object.isFrozen(principal)).toBe(true);
        expect(typeof principal.subject).toBe('string');
        for (const set of [principal.scopes, principal.roles]) {
          expect(set.size).toBeLessThanOrEqual(256);
          for (const item of set) expect(typeof item).toBe('string');
        }
        expect(principal.clientId === undefined || typeof principal.clientId === 'string').toBe(true);
        expect(Number.isFinite(principal.expiresAt)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
