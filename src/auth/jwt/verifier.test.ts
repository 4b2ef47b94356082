import { createHmac } from 'node:crypto';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  SignJWT,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../core/error-codes.js';
import { RampartError } from '../../core/errors.js';
import type { Principal } from '../principal.js';
import type { JwtIssuerOptions, JwtVerifierOptions } from './options.js';
import { JwtRejection, type JwtRejectionReason } from './rejection.js';
import { createJwtVerifier, type JwtVerifier } from './verifier.js';

const ISS = 'https://issuer.example';
const ISS_B = 'https://other-issuer.example';
const AUD = 'https://a.example/mcp';
const NOW = 1_800_000_000_000; // fixed clock, epoch ms
const T = NOW / 1000; // the same, in seconds

type Keys = { publicKey: CryptoKey; privateKey: CryptoKey };
let rsa: Keys;
let ec: Keys;
let attacker: Keys;
let rsaB: Keys;
let rs384: Keys;
let ps256: Keys;
let rsaJwk: JWK;
let ecJwk: JWK;
let rsaBJwk: JWK;

beforeAll(async () => {
  [rsa, ec, attacker, rsaB, rs384, ps256] = await Promise.all([
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true }),
    generateKeyPair('RS384'),
    generateKeyPair('PS256'),
  ]);
  rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
  ecJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
  // Issuer B uses the same kid as issuer A, with its own key.
  rsaBJwk = { ...(await exportJWK(rsaB.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
});

type Claims = Record<string, unknown>;
const claims = (extra: Claims = {}): Claims => ({
  iss: ISS,
  aud: AUD,
  sub: 'alice',
  scope: 'mcp:read mcp:write',
  client_id: 'client-1',
  iat: T - 10,
  exp: T + 300,
  ...extra,
});

async function sign(payload: Claims = claims(), header: Record<string, unknown> = {}, key?: CryptoKey) {
  const protectedHeader = { alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', ...header } as JWTHeaderParameters;
  for (const name of Object.keys(protectedHeader)) {
    if ((protectedHeader as Record<string, unknown>)[name] === undefined)
      delete (protectedHeader as Record<string, unknown>)[name];
  }
  return new SignJWT(payload).setProtectedHeader(protectedHeader).sign(key ?? rsa.privateKey);
}

const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Signs exactly the header and payload given (RS256), for shapes SignJWT refuses to produce. */
async function signRaw(header: unknown, payload: unknown = claims()): Promise<string> {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const data = new TextEncoder().encode(input);
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', rsa.privateKey, data);
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

function verifier(overrides: Partial<JwtVerifierOptions> = {}, issuer: Partial<JwtIssuerOptions> = {}) {
  return createJwtVerifier({
    issuers: [
      { issuer: ISS, audience: AUD, jwks: { keys: [rsaJwk, ecJwk] }, ...issuer },
      { issuer: ISS_B, audience: AUD, jwks: { keys: [rsaBJwk] }, algorithms: ['RS256'] },
    ],
    now: () => NOW,
    ...overrides,
  });
}

const bearer = (value: string) => ({ kind: 'bearer' as const, value });

async function refusal(v: JwtVerifier, token: string): Promise<{ error: RampartError; reason: string }> {
  let caught: unknown;
  try {
    await v.verify(bearer(token));
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) throw new Error('the token was accepted');
  expect(caught).toBeInstanceOf(RampartError);
  const error = caught as RampartError;
  expect(error.cause).toBeInstanceOf(JwtRejection);
  return { error, reason: (error.cause as JwtRejection).reason };
}

describe('createJwtVerifier accepts', () => {
  it('a valid RS256 at+jwt and maps its claims to a frozen principal', async () => {
    const v = verifier();
    expect(v.accepts(bearer(await sign()))).toBe(true);
    const principal = await v.verify(bearer(await sign()));
    expect({ ...principal, scopes: new Set(principal.scopes), roles: new Set(principal.roles) }).toEqual({
      subject: 'alice',
      issuer: ISS,
      authMethod: 'jwt',
      clientId: 'client-1',
      scopes: new Set(['mcp:read', 'mcp:write']),
      roles: new Set(),
      expiresAt: (T + 300) * 1000,
    } satisfies Principal);
    expect(Object.isFrozen(principal)).toBe(true);
  });

  const accepted: Array<[string, () => Promise<string>, Partial<JwtIssuerOptions>?]> = [
    ['ES256', () => sign(claims(), { alg: 'ES256', kid: 'ec-1' }, ec.privateKey)],
    ['aud as an array containing the resource', () => sign(claims({ aud: ['https://x.example', AUD] }))],
    ['typ application/at+jwt', () => sign(claims(), { typ: 'application/at+jwt' })],
    ['typ AT+JWT (case-insensitive)', () => sign(claims(), { typ: 'AT+JWT' })],
    ['typ JWT when the issuer relaxes typ', () => sign(claims(), { typ: 'JWT' }), { requiredTyp: false }],
    ['no typ when the issuer relaxes typ', () => sign(claims(), { typ: undefined }), { requiredTyp: false }],
    ['exp 29 s ago (within the 30 s tolerance)', () => sign(claims({ exp: T - 29 }))],
    ['nbf 30 s ahead (within the tolerance)', () => sign(claims({ nbf: T + 30 }))],
    ['iat 30 s ahead (within the tolerance)', () => sign(claims({ iat: T + 30 }))],
    ['no iat', () => sign(claims({ iat: undefined }))],
    ['no kid with one key of that type', () => sign(claims(), { kid: undefined })],
    ['a jku header, which is ignored', () => sign(claims(), { jku: 'https://evil.example/jwks' })],
  ];
  it.each(accepted)('%s', async (_name, make, issuer = {}) => {
    expect((await verifier({}, issuer).verify(bearer(await make()))).subject).toBe('alice');
  });

  it('roles from the configured claim, and scp when there is no scope claim', async () => {
    const v = verifier({}, { rolesClaim: 'cognito:groups' });
    const token = await sign(
      claims({ scope: undefined, scp: ['mcp:read', 7, null], 'cognito:groups': ['Admins', 42, { x: 1 }] }),
    );
    const principal = await v.verify(bearer(token));
    expect([...principal.scopes]).toEqual(['mcp:read']);
    expect([...principal.roles]).toEqual(['Admins']);
  });

  it('a token of exactly maxTokenBytes, and refuses one byte less', async () => {
    const token = await sign();
    expect((await verifier({ maxTokenBytes: token.length }).verify(bearer(token))).subject).toBe('alice');
    expect((await refusal(verifier({ maxTokenBytes: token.length - 1 }), token)).reason).toBe('too_large');
  });
});

const hs256WithPublicKeyPem = async () => {
  // Algorithm confusion (RFC 8725 §2.1): an HMAC "signed" with the RSA public key as the secret.
  const pem = await exportSPKI(rsa.publicKey);
  const input = `${b64url({ alg: 'HS256', typ: 'at+jwt', kid: 'rsa-1' })}.${b64url(claims())}`;
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
};

const refused: Array<[string, JwtRejectionReason, () => Promise<string>, Partial<JwtIssuerOptions>?]> = [
  ['expired (31 s ago)', 'expired', () => sign(claims({ exp: T - 31 }))],
  ['exp exactly at the tolerance edge', 'expired', () => sign(claims({ exp: T - 30 }))],
  ['nbf in the future', 'not_yet_valid', () => sign(claims({ nbf: T + 31 }))],
  ['iat in the future', 'iat_in_future', () => sign(claims({ iat: T + 31 }))],
  ['iat not a number', 'bad_claims', () => sign(claims({ iat: 'yesterday' }))],
  ['missing exp', 'missing_exp', () => sign(claims({ exp: undefined }))],
  ['exp as a string', 'bad_exp', () => sign(claims({ exp: String(T + 300) }))],
  ['exp 1e999 (Infinity)', 'bad_exp', () => signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1' }, rawExp())],
  ['wrong iss (trailing slash)', 'unknown_issuer', () => sign(claims({ iss: `${ISS}/` }))],
  ['unknown iss', 'unknown_issuer', () => sign(claims({ iss: 'https://evil.example' }))],
  ['no iss', 'unknown_issuer', () => sign(claims({ iss: undefined }))],
  ['iss __proto__', 'unknown_issuer', () => sign(claims({ iss: '__proto__' }))],
  ['iss constructor', 'unknown_issuer', () => sign(claims({ iss: 'constructor' }))],
  ['iss as an array', 'unknown_issuer', () => sign(claims({ iss: [ISS] }))],
  [
    "another issuer's iss, signed with this issuer's key",
    'bad_signature',
    () => sign(claims({ iss: ISS_B })),
  ],
  ['wrong aud', 'bad_audience', () => sign(claims({ aud: 'https://b.example/mcp' }))],
  ['no aud', 'bad_audience', () => sign(claims({ aud: undefined }))],
  ['aud extending the resource', 'bad_audience', () => sign(claims({ aud: `${AUD}/x` }))],
  [
    'aud a prefix of the resource',
    'bad_audience',
    () => sign(claims({ aud: AUD })),
    { audience: `${AUD}/x` },
  ],
  ['aud the resource minus its path', 'bad_audience', () => sign(claims({ aud: 'https://a.example' }))],
  ['aud with a trailing slash', 'bad_audience', () => sign(claims({ aud: `${AUD}/` }))],
  ['aud in another case', 'bad_audience', () => sign(claims({ aud: AUD.toUpperCase() }))],
  [
    'aud array of near misses',
    'bad_audience',
    () => sign(claims({ aud: [`${AUD}/x`, 'https://a.example'] })),
  ],
  [
    'alg none',
    'alg_not_allowed',
    async () => `${b64url({ alg: 'none', typ: 'at+jwt' })}.${b64url(claims())}.`,
  ],
  [
    'alg none with a signature',
    'alg_not_allowed',
    async () => `${b64url({ alg: 'none' })}.${b64url(claims())}.AAAA`,
  ],
  ['HS256 with the RSA public key PEM as secret', 'alg_not_allowed', hs256WithPublicKeyPem],
  [
    'RS384 when only ES256 is allowed',
    'alg_not_allowed',
    () => sign(claims(), { alg: 'RS384' }, rs384.privateKey),
    { algorithms: ['ES256'] },
  ],
  ['RS256 when only ES256 is allowed', 'alg_not_allowed', () => sign(), { algorithms: ['ES256'] }],
  ['alg missing', 'alg_not_allowed', () => signRaw({ typ: 'at+jwt', kid: 'rsa-1' })],
  [
    'PS256 with a key published for RS256 only',
    'unknown_key',
    () => sign(claims(), { alg: 'PS256' }, ps256.privateKey),
  ],
  ['typ missing', 'bad_typ', () => sign(claims(), { typ: undefined })],
  ['typ JWT when at+jwt is required', 'bad_typ', () => sign(claims(), { typ: 'JWT' })],
  ['typ not a string', 'bad_typ', () => signRaw({ alg: 'RS256', typ: 1, kid: 'rsa-1' })],
  [
    'crit with an unknown extension',
    'crit_unsupported',
    () => signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', crit: ['x-ext'], 'x-ext': 1 }),
  ],
  [
    'crit b64=false (unencoded payload)',
    'malformed',
    () => signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1', crit: ['b64'], b64: false }),
  ],
  [
    'embedded jwk (attacker key) with the real kid',
    'bad_signature',
    async () => sign(claims(), { jwk: await attackerJwk() }, attacker.privateKey),
  ],
  [
    'embedded jwk (attacker key) without kid',
    'bad_signature',
    async () => sign(claims(), { kid: undefined, jwk: await attackerJwk() }, attacker.privateKey),
  ],
  [
    'embedded jwk (attacker key) with its own kid',
    'unknown_key',
    async () => sign(claims(), { kid: 'evil', jwk: await attackerJwk() }, attacker.privateKey),
  ],
  [
    'x5c header with junk, signed by the attacker',
    'bad_signature',
    () => sign(claims(), { x5c: ['MIIB'] }, attacker.privateKey),
  ],
  ['unknown kid', 'unknown_key', () => sign(claims(), { kid: 'nope' })],
  ['signed by another key', 'bad_signature', () => sign(claims(), {}, attacker.privateKey)],
  [
    'tampered payload',
    'bad_signature',
    async () => {
      const [h, , s] = (await sign()).split('.');
      return `${h}.${b64url(claims({ sub: 'admin' }))}.${s}`;
    },
  ],
  ['no sub', 'bad_subject', () => sign(claims({ sub: undefined }))],
  ['empty sub', 'bad_subject', () => sign(claims({ sub: '' }))],
  ['sub not a string', 'bad_subject', () => sign(claims({ sub: 42 }))],
  ['sub of 256 characters', 'bad_subject', () => sign(claims({ sub: 'a'.repeat(256) }))],
  ['sub with a newline', 'bad_subject', () => sign(claims({ sub: 'alice\nadmin' }))],
  ['oversized', 'too_large', () => sign(claims({ pad: 'x'.repeat(9000) }))],
  ['garbage segments', 'malformed', async () => 'abc.def.ghi'],
  ['two segments', 'malformed', async () => 'abc.def'],
  ['empty string', 'malformed', async () => ''],
  ['payload a JSON array', 'malformed', () => signRaw({ alg: 'RS256', typ: 'at+jwt', kid: 'rsa-1' }, [1])],
  ['header not JSON', 'malformed', async () => `${b64url('{nope')}.${b64url(claims())}.AAAA`],
  ['padding characters', 'malformed', async () => `${await sign()}=`],
];

function rawExp(): string {
  return JSON.stringify(claims({ exp: 0 })).replace('"exp":0', '"exp":1e999');
}

async function attackerJwk(): Promise<JWK> {
  return exportJWK(attacker.publicKey);
}

describe('createJwtVerifier refuses, always with the same error', () => {
  const seen: Array<{ code: string; message: string; status: number }> = [];

  it.each(refused)('%s → %s', async (_name, reason, make, issuer = {}) => {
    const token = await make();
    const v = verifier({}, issuer);
    const { error, reason: actual } = await refusal(v, token);
    expect(actual).toBe(reason);
    expect(error.code).toBe('ERR_AUTH_INVALID_TOKEN');
    expect(error.message).toBe(ERROR_CODES.ERR_AUTH_INVALID_TOKEN.message);
    expect(error.status).toBe(401);
    expect(error.data).toBeUndefined();
    expect(error.headers).toBeUndefined();
    // Neither the client-visible error nor the logged cause carries the token or a part of it.
    const visible = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
    for (const part of token.split('.').filter((p) => p.length >= 8)) expect(visible).not.toContain(part);
    expect(v.stats().cacheSize).toBe(0);
    seen.push({ code: error.code, message: error.message, status: error.status });
  });

  it('gave clients one identical error for every case above', () => {
    expect(seen).toHaveLength(refused.length);
    expect(new Set(seen.map((e) => JSON.stringify(e))).size).toBe(1);
  });

  it('refuses credentials that are not bearer tokens', async () => {
    const v = verifier();
    const token = await sign();
    expect(v.accepts({ kind: 'api_key_header', value: token })).toBe(false);
    await expect(v.verify({ kind: 'api_key_header', value: token })).rejects.toMatchObject({
      code: 'ERR_AUTH_INVALID_TOKEN',
      cause: { reason: 'malformed' },
    });
  });

  it('accepts only JWT-shaped bearer values', () => {
    const v = verifier();
    expect(v.accepts(bearer('rmp_abc'))).toBe(false);
    expect(v.accepts(bearer('a.b'))).toBe(false);
    expect(v.accepts(bearer('a.b.c.d'))).toBe(false);
    expect(v.accepts(bearer('a b.c.d'))).toBe(false);
    expect(v.accepts(bearer('eyJ.eyJ.'))).toBe(true);
  });
});
