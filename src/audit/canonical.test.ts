import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashArguments, isSecretName, REDACTED } from './args-hash.js';
import { canonicalJson } from './canonical.js';

describe('canonicalJson', () => {
  it('round-trips any JSON value and ignores key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse());
          expect(canonicalJson(reversed)).toBe(text);
        }
      }),
    );
  });

  it('sorts keys and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, z: undefined })).toBe(
      '{"a":{"c":null,"d":[1,"x"]},"b":1}',
    );
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });
});

/** The reference: a redacted copy first, then the plain canonical text. */
function redactedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(redactedCopy);
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, member] of Object.entries(value))
    out[key] = isSecretName(key) ? REDACTED : redactedCopy(member);
  return out;
}

describe('hashArguments', () => {
  it('does not commit to the values of secret-looking arguments', () => {
    const a = hashArguments({ user: 'bob', password: 'hunter2', nested: { apiKey: 'k1' } });
    const b = hashArguments({ user: 'bob', password: 'correct horse', nested: { apiKey: 'k2' } });
    expect(a).toBe(b);
    expect(hashArguments({ user: 'alice', password: 'hunter2' })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes exactly the canonical JSON of the redacted copy', () => {
    const name = fc.oneof(fc.string(), fc.constantFrom('password', 'api_key', 'Token', '__proto__', 'pin'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 2 }),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(name, fc.oneof(tie('node'), fc.constant(undefined)), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (args) => {
        const expected = createHash('sha256')
          .update(canonicalJson(redactedCopy(args)))
          .digest('hex');
        expect(hashArguments(args)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('recognises secret names in their usual spellings', () => {
    for (const name of [
      'password',
      'Passwd',
      'api_key',
      'API-KEY',
      'client_secret',
      'accessToken',
      'Authorization',
      'privateKey',
      'otp',
      'pin',
    ]) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ['user', 'query', 'table', 'limit', 'spinner'])
      expect(isSecretName(name), name).toBe(false);
  });

  it('recognises the secret names an audit review found missing, and no ordinary words', () => {
    for (const name of [
      'pwd',
      'user_pwd',
      'pin_code',
      'pinCode',
      'PIN',
      'mfa_code',
      'mfaCode',
      '2fa_code',
      'totp',
      'hotp',
      'otp_code',
      'access_key',
      'accessKey',
      'AWS_SECRET_ACCESS_KEY',
      'signing_key',
      'ssh_key',
      'encryption_key',
      'api.key',
      'x.api.key',
      'bearer',
      'bearerToken',
      'jwt',
      'id_jwt',
      'auth',
      'x-auth',
      'basicAuth',
      'auth_code',
      'authHeader',
      'cvv',
      'card_cvc',
    ]) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of [
      'author',
      'authors',
      'authority',
      'authenticated',
      'spinner',
      'opinion',
      'pinned',
      'key',
      'primary_key',
      'sort_key',
      'monkey',
      'keyboard',
      'path',
      'url',
    ]) {
      expect(isSecretName(name), name).toBe(false);
    }
  });

  it('keeps redacting a name whose answer was remembered', () => {
    expect(isSecretName('api.key')).toBe(true);
    expect(isSecretName('api.key')).toBe(true);
    const args = (pin: string) => hashArguments({ account: 'alice', pin_code: pin, 'api.key': pin });
    expect(args('4821')).toBe(args('0000'));
  });

  it('keeps a key named __proto__ a plain key', () => {
    const parsed = JSON.parse('{"__proto__": {"password": "x"}, "a": 1}');
    const expected = createHash('sha256')
      .update('{"__proto__":{"password":"[redacted]"},"a":1}')
      .digest('hex');
    expect(hashArguments(parsed)).toBe(expected);
    expect(({} as Record<string, unknown>).password).toBeUndefined();
  });
});
