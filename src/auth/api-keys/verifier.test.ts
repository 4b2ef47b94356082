import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, RampartError } from '../../core/errors.js';
import { type KeyStore, openKeyStore } from '../../stores/key-store.js';
import { createAuthenticator } from '../authenticate.js';
import type { Credential, TokenVerifier } from '../verifier.js';
import type { ApiKeyVerifierLogger, ApiKeyVerifierOptions, ApiKeyVerifierStore } from './verifier.js';
import { createApiKeyVerifier } from './verifier.js';

const HOUR = 3_600_000;
let dir: string;
let store: KeyStore;
let clock: number;
let calls: { lookup: number; touch: number };
let counted: ApiKeyVerifierStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-verifier-'));
  clock = 1_700_000_000_000;
  store = await openKeyStore(join(dir, 'rampart.db'), { now: () => clock });
  await store.keys.createUser('alice', ['admin', 'ops']);
  calls = { lookup: 0, touch: 0 };
  counted = {
    lookupByHash: (hash, now) => {
      calls.lookup++;
      return store.keys.lookupByHash(hash, now);
    },
    touchKey: (id, at) => {
      calls.touch++;
      return store.keys.touchKey(id, at);
    },
  };
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const verifier = (options: Partial<ApiKeyVerifierOptions> = {}): TokenVerifier =>
  createApiKeyVerifier({ store: counted, now: () => clock, ...options });
const bearer = (value: string): Credential => ({ kind: 'bearer', value });
const header = (value: string): Credential => ({ kind: 'api_key_header', value });
const mint = async (over: { expiresAt?: number; scopes?: string[] } = {}) =>
  store.keys.createKey({ name: 'k', userId: 'alice', scopes: over.scopes ?? ['mcp:read'], ...over });
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** The rejection of `promise`, asserted to be the one generic invalid-token error. */
async function rejection(promise: Promise<unknown>): Promise<RampartError> {
  const error = await promise.then(
    () => expect.unreachable('authenticated'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RampartError);
  const rampart = error as RampartError;
  expect([rampart.code, rampart.status, rampart.message]).toEqual([
    'ERR_AUTH_INVALID_TOKEN',
    401,
    'The access token or API key is invalid',
  ]);
  return rampart;
}

describe('accepts', () => {
  it.each<[Credential, boolean]>([
    [bearer('rmp_x'), true],
    [header('rmp_x'), true],
    [bearer('eyJhbGciOiJFUzI1NiJ9.e30.sig'), false],
    [header('sk_live_abc'), false],
    [bearer('RMP_x'), false],
  ])('%o -> %s', (credential, expected) => {
    expect(verifier().accepts(credential)).toBe(expected);
  });
});

describe('verify', () => {
  it('turns a key into a frozen principal with the user roles, by either header', async () => {
    const { record, key } = await mint({ scopes: ['mcp:read', 'mcp:write'], expiresAt: clock + HOUR });
    for (const credential of [bearer(key), header(key)]) {
      const principal = await verifier().verify(credential);
      expect(principal).toEqual({
        subject: 'alice',
        issuer: 'rampart',
        authMethod: 'api_key',
        keyId: record.id,
        scopes: new Set(['mcp:read', 'mcp:write']),
        roles: new Set(['admin', 'ops']),
        expiresAt: clock + HOUR,
      });
      expect(Object.isFrozen(principal)).toBe(true);
      expect(JSON.stringify({ ...principal, scopes: [...principal.scopes] })).not.toContain(key);
    }
  });

  it('works through the authenticator with Authorization: Bearer and X-API-Key', async () => {
    const { key } = await mint();
    const authenticate = createAuthenticator([verifier()]);
    expect((await authenticate(new Headers({ authorization: `Bearer ${key}` }))).subject).toBe('alice');
    expect((await authenticate(new Headers({ 'x-api-key': key }))).subject).toBe('alice');
  });

  it('gives the same error for malformed, unknown, revoked, expired, rotated and orphaned keys', async () => {
    const good = await mint();
    const forged = (await mint()).key; // well-formed, then deleted: unknown to the store
    await store.db.deleteFrom('api_keys').where('display_prefix', '=', forged.slice(0, 10)).execute();
    const revoked = await mint();
    await store.keys.revokeKey(revoked.record.id);
    const expired = await mint({ expiresAt: clock + 1 });
    const rotated = await mint();
    await store.keys.rotateKey(rotated.record.id, 0);
    await store.keys.createUser('bob', []);
    const orphan = await store.keys.createKey({ name: 'o', userId: 'bob', scopes: ['s'] });
    // A database without the cascade (foreign keys off): the key row survives its user.
    await sql`pragma foreign_keys = off`.execute(store.db);
    await store.db.deleteFrom('rampart_users').where('id', '=', 'bob').execute();
    clock += 1;

    const v = verifier();
    const cases: [string, string][] = [
      // A different last character (the checksum's): 'x', unless it already is one.
      [`${good.key.slice(0, -1)}${good.key.endsWith('x') ? 'y' : 'x'}`, 'malformed'],
      [forged, 'unknown'],
      [revoked.key, 'revoked'],
      [expired.key, 'expired'],
      [rotated.key, 'rotated'],
      [orphan.key, 'user_removed'],
    ];
    for (const [key, cause] of cases) {
      expect((await rejection(v.verify(bearer(key)))).cause).toBe(cause);
    }
    expect((await v.verify(bearer(good.key))).subject).toBe('alice');
  });

  it('rejects a one-character change without asking the store', async () => {
    const { key } = await mint();
    const v = verifier();
    for (let i = 4; i < key.length; i++) {
      const changed = key.slice(0, i) + (key[i] === 'A' ? 'B' : 'A') + key.slice(i + 1);
      expect((await rejection(v.verify(header(changed)))).cause).toBe('malformed');
    }
    expect(calls.lookup).toBe(0);
    await v.verify(header(key));
    expect(calls.lookup).toBe(1);
  });

  it('refuses credentials it does not accept', async () => {
    await rejection(verifier().verify(bearer('eyJ.e30.x')));
    expect(calls.lookup).toBe(0);
  });

  it('answers 503, not 401, when the store fails', async () => {
    const { key } = await mint();
    const broken = createApiKeyVerifier({
      store: { lookupByHash: () => Promise.reject(new Error('disk I/O error')), touchKey: async () => {} },
    });
    await expect(broken.verify(bearer(key))).rejects.toThrowError(
      expect.objectContaining({ code: 'ERR_UNAVAILABLE' }),
    );
  });
});

describe('rotation grace', () => {
  it('accepts both keys inside the grace period and only the new one after', async () => {
    const old = await mint();
    const next = await store.keys.rotateKey(old.record.id, HOUR);
    const v = verifier({ cacheTtlMs: 0 });
    expect((await v.verify(bearer(old.key))).expiresAt).toBe(clock + HOUR);
    expect((await v.verify(bearer(next.key))).keyId).toBe(next.record.id);
    clock += HOUR;
    expect((await rejection(v.verify(bearer(old.key)))).cause).toBe('rotated');
    expect((await v.verify(bearer(next.key))).keyId).toBe(next.record.id);
  });

  it('never lets a cached old key outlive its grace period', async () => {
    const old = await mint();
    await store.keys.rotateKey(old.record.id, 1000);
    const v = verifier({ cacheTtlMs: 60_000 });
    await v.verify(bearer(old.key));
    clock += 1000;
    await rejection(v.verify(bearer(old.key)));
    expect(calls.lookup).toBe(2);
  });
});

describe('cache', () => {
  it('serves a key from memory within the TTL, so revocation lands within cacheTtlMs', async () => {
    const { record, key } = await mint();
    const v = verifier({ cacheTtlMs: 5000 });
    await v.verify(bearer(key));
    await store.keys.revokeKey(record.id);
    clock += 4999;
    expect((await v.verify(bearer(key))).keyId).toBe(record.id);
    expect(calls.lookup).toBe(1);
    clock += 1;
    expect((await rejection(v.verify(bearer(key)))).cause).toBe('revoked');
    expect(calls.lookup).toBe(2);
  });

  it('with cacheTtlMs 0, asks the store every time and revocation is immediate', async () => {
    const { record, key } = await mint();
    const v = verifier({ cacheTtlMs: 0 });
    await v.verify(bearer(key));
    await v.verify(bearer(key));
    expect(calls.lookup).toBe(2);
    await store.keys.revokeKey(record.id);
    await rejection(v.verify(bearer(key)));
  });

  it('never serves a key past its expiry, even inside the TTL', async () => {
    const { key } = await mint({ expiresAt: clock + 2000 });
    const v = verifier({ cacheTtlMs: 5000 });
    await v.verify(bearer(key));
    clock += 1999;
    await v.verify(bearer(key));
    expect(calls.lookup).toBe(1);
    clock += 1;
    expect((await rejection(v.verify(bearer(key)))).cause).toBe('expired');
  });

  it('does not cache rejections', async () => {
    const { record, key } = await mint();
    await store.keys.revokeKey(record.id);
    const v = verifier();
    await rejection(v.verify(bearer(key)));
    await rejection(v.verify(bearer(key)));
    expect(calls.lookup).toBe(2);
  });

  it('keeps at most cacheMaxEntries keys', async () => {
    const keys = [(await mint()).key, (await mint()).key, (await mint()).key];
    const v = verifier({ cacheMaxEntries: 2 });
    for (const key of keys) await v.verify(bearer(key));
    expect(calls.lookup).toBe(3);
    await v.verify(bearer(keys[2]!));
    await v.verify(bearer(keys[1]!));
    expect(calls.lookup).toBe(3);
    await v.verify(bearer(keys[0]!)); // evicted first
    expect(calls.lookup).toBe(4);
  });

  it('hands each request its own sets, so one caller cannot change the next principal', async () => {
    const { key } = await mint();
    const v = verifier();
    const first = await v.verify(bearer(key));
    (first.roles as Set<string>).add('root');
    expect((await v.verify(bearer(key))).roles).toEqual(new Set(['admin', 'ops']));
  });

  it('picks up role changes after the TTL', async () => {
    const { key } = await mint();
    const v = verifier({ cacheTtlMs: 1000 });
    await v.verify(bearer(key));
    await store.keys.setUserRoles('alice', ['viewer']);
    clock += 1000;
    expect((await v.verify(bearer(key))).roles).toEqual(new Set(['viewer']));
  });
});

describe('lastUsedAt', () => {
  it('is written at most once a minute per key, off the request path', async () => {
    const { record, key } = await mint();
    const v = verifier({ cacheTtlMs: 0 });
    for (let i = 0; i < 5; i++) await v.verify(bearer(key));
    await flush();
    expect(calls.touch).toBe(1);
    expect((await store.keys.getKey(record.id))?.lastUsedAt).toBe(clock);
    clock += 59_999;
    await v.verify(bearer(key));
    clock += 1;
    await v.verify(bearer(key));
    await flush();
    expect(calls.touch).toBe(2);
    expect((await store.keys.getKey(record.id))?.lastUsedAt).toBe(clock);
  });

  it('logs a failed write and still authenticates', async () => {
    const { key } = await mint();
    const warnings: [Record<string, unknown>, string][] = [];
    const logger: ApiKeyVerifierLogger = { warn: (details, message) => warnings.push([details, message]) };
    const v = createApiKeyVerifier({
      store: { lookupByHash: counted.lookupByHash, touchKey: () => Promise.reject(new Error('read-only')) },
      logger,
    });
    expect((await v.verify(bearer(key))).subject).toBe('alice');
    await flush();
    expect(warnings).toEqual([
      [expect.objectContaining({ keyId: expect.any(String) }), 'could not record API key use'],
    ]);
  });
});

describe('options', () => {
  it.each([
    [{ cacheTtlMs: -1 }, 'auth.apiKeys.cacheTtlMs'],
    [{ cacheTtlMs: 1.5 }, 'auth.apiKeys.cacheTtlMs'],
    [{ cacheMaxEntries: 0 }, 'auth.apiKeys.cacheMaxEntries'],
    [{ touchIntervalMs: Number.NaN }, 'auth.apiKeys.touchIntervalMs'],
  ])('refuses %o', (options, path) => {
    expect(() => verifier(options)).toThrowError(expect.objectContaining({ name: 'ConfigError', path }));
    expect(() => verifier(options)).toThrow(ConfigError);
  });
});

describe('property: nothing but a minted key authenticates', () => {
  it('arbitrary strings, rmp_-prefixed strings and mutated keys only ever throw ERR_AUTH_INVALID_TOKEN', async () => {
    const { key } = await mint();
    const v = verifier();
    const mutated = fc
      .tuple(fc.nat({ max: key.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
      .filter(([i, c]) => key[i] !== c)
      .map(([i, c]) => key.slice(0, i) + c + key.slice(i + 1));
    const candidates = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.string({ maxLength: 60 }).map((s) => `rmp_${s}`),
      fc.stringMatching(/^rmp_[A-Za-z0-9_-]{43}_[0-9A-Za-z]{6}$/),
      mutated,
    );
    await fc.assert(
      fc.asyncProperty(candidates, fc.boolean(), async (value, asHeader) => {
        const credential = asHeader ? header(value) : bearer(value);
        await rejection(v.verify(credential));
      }),
      { numRuns: 500 },
    );
    expect((await v.verify(bearer(key))).subject).toBe('alice');
  });
});
