import fc from 'fast-check';
import type { JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { MAX_LIST_ENTRIES, readListClaim, readStringClaim, readTokenClaims } from './claims.js';
import type { ResolvedIssuer } from './options.js';

const issuer = (extra: Partial<ResolvedIssuer> = {}): ResolvedIssuer => ({
  path: 'auth.jwt.issuers[0]',
  issuer: 'https://issuer.example',
  audience: 'https://a.example/mcp',
  keys: { kind: 'inline', jwks: { keys: [] } },
  algorithms: ['ES256'],
  requiredTyp: 'at+jwt',
  scopeClaim: 'scope',
  rolesClaim: undefined,
  clientIdClaims: ['client_id', 'azp'],
  toleranceSeconds: 30,
  ...extra,
});

const payload = (extra: Record<string, unknown>): JWTPayload => ({ sub: 'alice', exp: 1000, ...extra });

describe('readListClaim', () => {
  const cases: Array<[string, unknown, string[]]> = [
    ['a space-separated string', 'mcp:read  mcp:write ', ['mcp:read', 'mcp:write']],
    ['an array', ['mcp:read', 'mcp:write'], ['mcp:read', 'mcp:write']],
    ['duplicates collapse', 'a a b', ['a', 'b']],
    ['a number', 42, []],
    ['null', null, []],
    ['an object', { 0: 'a', length: 1 }, []],
    ['non-strings in an array', ['a', 1, null, true, {}, ['b'], 'c'], ['a', 'c']],
    ['characters outside RFC 6749 §3.3', ['a"b', 'a\\b', 'tab\there', 'é', 'ok'], ['ok']],
    ['an over-long entry', ['x'.repeat(257), 'x'.repeat(256)], ['x'.repeat(256)]],
    ['an empty string', '', []],
  ];
  it.each(cases)('%s', (_name, value, expected) => {
    expect(readListClaim(payload({ scope: value }), 'scope')).toEqual(expected);
  });

  it(`examines only the first ${MAX_LIST_ENTRIES} entries of a huge array or string`, () => {
    const many = Array.from({ length: 100_000 }, (_, i) => `s${i}`);
    expect(readListClaim(payload({ scope: many }), 'scope')).toEqual(many.slice(0, MAX_LIST_ENTRIES));
    expect(readListClaim(payload({ scope: many.join(' ') }), 'scope')).toEqual(
      many.slice(0, MAX_LIST_ENTRIES),
    );
    const junkFirst = [...Array.from({ length: MAX_LIST_ENTRIES }, () => 1), 'late'];
    expect(readListClaim(payload({ scope: junkFirst }), 'scope')).toEqual([]);
  });

  it('reads only own members, never inherited ones', () => {
    expect(readListClaim(JSON.parse('{"sub":"a"}') as JWTPayload, 'toString')).toEqual([]);
    expect(readListClaim(JSON.parse('{"__proto__":["x"]}') as JWTPayload, '__proto__')).toEqual(['x']);
  });

  it('returns at most the cap, only valid distinct strings, and never throws (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.array(fc.oneof(fc.string(), fc.anything()), { maxLength: 600 })),
        (v) => {
          const out = readListClaim(payload({ scope: v }), 'scope');
          expect(out.length).toBeLessThanOrEqual(MAX_LIST_ENTRIES);
          expect(new Set(out).size).toBe(out.length);
          for (const s of out) expect(s).toMatch(/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('readStringClaim', () => {
  it('takes the first usable string among the claims', () => {
    expect(readStringClaim(payload({ client_id: 7, azp: 'app' }), ['client_id', 'azp'])).toBe('app');
    expect(readStringClaim(payload({ client_id: 'c', azp: 'app' }), ['client_id', 'azp'])).toBe('c');
    expect(readStringClaim(payload({ client_id: 'a\u0000b' }), ['client_id'])).toBeUndefined();
    expect(readStringClaim(payload({ client_id: 'x'.repeat(257) }), ['client_id'])).toBeUndefined();
    expect(readStringClaim(payload({}), ['client_id', 'azp'])).toBeUndefined();
  });
});

describe('readTokenClaims', () => {
  it('reads scp only when the default scope claim is absent', () => {
    expect(readTokenClaims(payload({ scp: ['a', 'b'] }), issuer())?.scopes).toEqual(['a', 'b']);
    expect(readTokenClaims(payload({ scp: 'a b' }), issuer())?.scopes).toEqual(['a', 'b']);
    expect(readTokenClaims(payload({ scope: 'c', scp: ['a'] }), issuer())?.scopes).toEqual(['c']);
    expect(readTokenClaims(payload({ scope: 7, scp: ['a'] }), issuer())?.scopes).toEqual([]);
    expect(readTokenClaims(payload({ scp: ['a'] }), issuer({ scopeClaim: 'permissions' }))?.scopes).toEqual(
      [],
    );
    expect(
      readTokenClaims(payload({ permissions: ['p'] }), issuer({ scopeClaim: 'permissions' }))?.scopes,
    ).toEqual(['p']);
  });

  it('reads roles from the configured claim, allowing spaces inside array entries', () => {
    const config = issuer({ rolesClaim: 'cognito:groups' });
    expect(readTokenClaims(payload({ 'cognito:groups': ['Admins', 'Help Desk', 3] }), config)?.roles).toEqual(
      ['Admins', 'Help Desk'],
    );
    expect(readTokenClaims(payload({ 'cognito:groups': 'a b' }), config)?.roles).toEqual(['a', 'b']);
    expect(readTokenClaims(payload({ roles: ['a'] }), issuer())?.roles).toEqual([]);
  });

  it('requires a short printable sub, and converts exp to ms', () => {
    expect(readTokenClaims(payload({ sub: 'x'.repeat(255) }), issuer())?.subject).toHaveLength(255);
    expect(readTokenClaims(payload({ sub: 'x'.repeat(256) }), issuer())).toBeUndefined();
    expect(readTokenClaims(payload({ sub: ['alice'] }), issuer())).toBeUndefined();
    expect(readTokenClaims(payload({ sub: '\u0085' }), issuer())).toBeUndefined();
    expect(readTokenClaims(payload({ exp: 1234 }), issuer())?.expiresAt).toBe(1_234_000);
  });
});
