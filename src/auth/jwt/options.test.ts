import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import type { JwtIssuerOptions, JwtVerifierOptions } from './options.js';
import { createJwtVerifier } from './verifier.js';

const ISS = 'https://issuer.example';
const AUD = 'https://a.example/mcp';
const PUBLIC_EC = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'ec',
};

const issuer = (extra: Partial<JwtIssuerOptions> = {}): JwtIssuerOptions => ({
  issuer: ISS,
  audience: AUD,
  jwks: { keys: [PUBLIC_EC] },
  ...extra,
});

function configError(options: JwtVerifierOptions): ConfigError {
  try {
    createJwtVerifier(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the options were accepted');
}

describe('createJwtVerifier refuses bad options at construction', () => {
  const P = 'auth.jwt.issuers[0]';
  const cases: Array<[string, JwtVerifierOptions, string, RegExp]> = [
    ['no issuers', { issuers: [] }, 'auth.jwt.issuers', /at least one issuer/],
    ['a duplicate issuer', { issuers: [issuer(), issuer()] }, 'auth.jwt.issuers[1].issuer', /duplicate/],
    ['an empty issuer', { issuers: [issuer({ issuer: '' })] }, `${P}.issuer`, /non-empty/],
    ['no audience', { issuers: [issuer({ audience: '' })] }, `${P}.audience`, /resource URI/],
    [
      'HS256',
      { issuers: [issuer({ algorithms: ['RS256', 'HS256'] })] },
      `${P}.algorithms`,
      /HS256 needs a shared secret/,
    ],
    ['hs512', { issuers: [issuer({ algorithms: ['hs512'] })] }, `${P}.algorithms`, /shared secret/],
    ['none', { issuers: [issuer({ algorithms: ['none'] })] }, `${P}.algorithms`, /unsupported algorithm/],
    [
      'an unknown algorithm',
      { issuers: [issuer({ algorithms: ['RS1'] })] },
      `${P}.algorithms`,
      /unsupported/,
    ],
    ['an empty algorithm list', { issuers: [issuer({ algorithms: [] })] }, `${P}.algorithms`, /at least one/],
    [
      'tolerance 61 s',
      { issuers: [issuer({ clockToleranceSeconds: 61 })] },
      `${P}.clockToleranceSeconds`,
      /0 and 60/,
    ],
    [
      'tolerance -1 s',
      { issuers: [issuer({ clockToleranceSeconds: -1 })] },
      `${P}.clockToleranceSeconds`,
      /0 and 60/,
    ],
    [
      'tolerance NaN',
      { issuers: [issuer({ clockToleranceSeconds: Number.NaN })] },
      `${P}.clockToleranceSeconds`,
      /0 and 60/,
    ],
    ['an empty requiredTyp', { issuers: [issuer({ requiredTyp: '' })] }, `${P}.requiredTyp`, /non-empty/],
    ['an empty claim name', { issuers: [issuer({ rolesClaim: '' })] }, P, /claim names/],
    ['no key source', { issuers: [issuer({ jwks: undefined })] }, P, /exactly one of/],
    ['two key sources', { issuers: [issuer({ jwksUrl: 'https://x.example/jwks' })] }, P, /exactly one of/],
    [
      'a relative jwksUrl',
      { issuers: [issuer({ jwks: undefined, jwksUrl: '/jwks' })] },
      `${P}.jwksUrl`,
      /absolute URL/,
    ],
    [
      'plain http off loopback',
      { issuers: [issuer({ jwks: undefined, jwksUrl: 'http://sso.example/jwks' })] },
      `${P}.jwksUrl`,
      /https/,
    ],
    [
      'a file: URL',
      { issuers: [issuer({ jwks: undefined, jwksUrl: 'file:///etc/jwks' })] },
      `${P}.jwksUrl`,
      /https/,
    ],
    [
      'credentials in the URL',
      { issuers: [issuer({ jwks: undefined, jwksUrl: 'https://u:p@sso.example/jwks' })] },
      `${P}.jwksUrl`,
      /credentials/,
    ],
    [
      'a private key inline',
      { issuers: [issuer({ jwks: { keys: [{ ...PUBLIC_EC, d: 'AAAA' }] } })] },
      `${P}.jwks`,
      /private/,
    ],
    [
      'a symmetric key inline',
      { issuers: [issuer({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } })] },
      `${P}.jwks`,
      /symmetric/,
    ],
    [
      'a JWKS without keys',
      { issuers: [issuer({ jwks: {} as { keys: JsonWebKey[] } })] },
      `${P}.jwks`,
      /"keys"/,
    ],
    ['maxTokenBytes 0', { issuers: [issuer()], maxTokenBytes: 0 }, 'auth.jwt.maxTokenBytes', /whole number/],
    ['jwksTimeoutMs 0', { issuers: [issuer()], jwksTimeoutMs: 0 }, 'auth.jwt.jwksTimeoutMs', /whole number/],
    [
      'jwksCooldownMs -1',
      { issuers: [issuer()], jwksCooldownMs: -1 },
      'auth.jwt.jwksCooldownMs',
      /whole number/,
    ],
    [
      'cache maxEntries 1.5',
      { issuers: [issuer()], cache: { maxEntries: 1.5 } },
      'auth.jwt.cacheMaxEntries',
      /whole/,
    ],
    [
      'cache maxTtlSeconds over an hour',
      { issuers: [issuer()], cache: { maxTtlSeconds: 3601 } },
      'auth.jwt.cacheMaxTtlSeconds',
      /whole number/,
    ],
  ];

  it.each(cases)('%s', (_name, options, path, message) => {
    const error = configError(options);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${path}: `)).toBe(true);
  });

  it('accepts https anywhere and plain http on loopback', () => {
    for (const jwksUrl of [
      'https://sso.example/jwks',
      'http://127.0.0.1:8080/jwks',
      'http://localhost/jwks',
      'http://[::1]/jwks',
    ]) {
      expect(createJwtVerifier({ issuers: [issuer({ jwks: undefined, jwksUrl })] }).name).toBe('jwt');
    }
  });

  it('accepts several issuers and every public-key algorithm', () => {
    const algorithms = [
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
    ];
    const v = createJwtVerifier({
      issuers: [issuer({ algorithms }), issuer({ issuer: 'https://b.example' })],
    });
    expect(v.stats()).toEqual({ cacheHits: 0, cacheMisses: 0, cacheSize: 0 });
  });
});
