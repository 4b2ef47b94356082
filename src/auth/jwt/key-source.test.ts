import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RampartError } from '../../core/errors.js';
import type { JwtRejection } from './rejection.js';
import { createJwtVerifier, type JwtVerifier } from './verifier.js';

const ISS = 'https://issuer.example';
const AUD = 'https://a.example/mcp';
const NOW = 1_800_000_000_000;

let dir: string;
const keys: Array<{ privateKey: CryptoKey; jwk: JWK }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-jwks-'));
  for (const kid of ['a', 'b', 'c']) {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    keys.push({
      privateKey: pair.privateKey,
      jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA' },
    });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const key = (i: number) => keys[i] as { privateKey: CryptoKey; jwk: JWK };

function sign(i: number): Promise<string> {
  return new SignJWT({ iss: ISS, aud: AUD, sub: 'alice', exp: NOW / 1000 + 3600 })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key(i).jwk.kid as string })
    .sign(key(i).privateKey);
}

async function reasonOf(v: JwtVerifier, token: string): Promise<string> {
  const error = await v.verify({ kind: 'bearer', value: token }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RampartError);
  return ((error as RampartError).cause as JwtRejection).reason;
}

function fileVerifier(file: string, clock: { now: number }) {
  return createJwtVerifier({
    issuers: [{ issuer: ISS, audience: AUD, jwksFile: file }],
    jwksCooldownMs: 30_000,
    cache: { maxEntries: 0 },
    now: () => clock.now,
  });
}

describe('a JWKS file', () => {
  it('is read at construction and re-read for an unknown kid at most once per cooldown', async () => {
    const file = join(dir, 'rotating.json');
    writeFileSync(file, JSON.stringify({ keys: [key(0).jwk] }));
    const clock = { now: NOW };
    const v = fileVerifier(file, clock);
    expect((await v.verify({ kind: 'bearer', value: await sign(0) })).subject).toBe('alice');

    writeFileSync(file, JSON.stringify({ keys: [key(0).jwk, key(1).jwk] }));
    clock.now += 29_999;
    expect(await reasonOf(v, await sign(1))).toBe('unknown_key'); // within the cooldown: not re-read
    clock.now += 1;
    expect((await v.verify({ kind: 'bearer', value: await sign(1) })).subject).toBe('alice');

    // A broken file keeps the keys already loaded.
    writeFileSync(file, '{ not json');
    clock.now += 30_000;
    expect(await reasonOf(v, await sign(2))).toBe('unknown_key');
    expect((await v.verify({ kind: 'bearer', value: await sign(1) })).subject).toBe('alice');
  });

  it('refuses the setting when missing, not JSON, or holding a private key', async () => {
    const privateJwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'nope');
    const withPrivate = join(dir, 'private.json');
    writeFileSync(withPrivate, JSON.stringify({ keys: [privateJwk] }));
    for (const [file, message] of [
      [join(dir, 'missing.json'), /cannot be read/],
      [notJson, /is not JSON/],
      [withPrivate, /private or symmetric/],
    ] as const) {
      const build = () => fileVerifier(file, { now: NOW });
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(message);
      // The path of the file stays out of the message (it is in `cause`, for the operator's log).
      expect(() => build()).not.toThrow(dir);
    }
  });
});

describe('an inline JWKS', () => {
  it('verifies with EdDSA and reports a key it cannot import as jwks_unavailable', async () => {
    const v = createJwtVerifier({
      issuers: [
        {
          issuer: ISS,
          audience: AUD,
          jwks: { keys: [key(0).jwk, { kty: 'OKP', crv: 'Ed25519', x: '!!', kid: 'b', alg: 'EdDSA' }] },
        },
      ],
      now: () => NOW,
    });
    expect((await v.verify({ kind: 'bearer', value: await sign(0) })).subject).toBe('alice');
    expect(await reasonOf(v, await sign(1))).toBe('jwks_unavailable');
  });
});
