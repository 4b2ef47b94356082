import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKeyStoreError } from './errors.js';
import { validateKeyName, validateMs, validateRoles, validateScopes, validateUserId } from './validate.js';

const refusal = (field: string) =>
  expect.objectContaining({ name: 'ApiKeyStoreError', code: 'ERR_KEYSTORE_INVALID_INPUT', field });

describe('validateKeyName', () => {
  it.each(['laptop', 'CI deploy (prod)', 'x', 'n'.repeat(64), 'clé de Zoë', '日本語'])(
    'accepts %j',
    (name) => {
      expect(validateKeyName(name)).toBe(name);
    },
  );

  it.each([
    '',
    ' ',
    'n'.repeat(65),
    'tab\there',
    'new\nline',
    'bell\x07',
    'del\x7f',
    'c1\x85',
    'bidi\u202eevil',
    'zero\u200bwidth',
    'line\u2028sep',
    'lone\ud800',
    42,
    null,
  ])('refuses %j', (name) => {
    expect(() => validateKeyName(name)).toThrowError(refusal('name'));
  });

  it('never echoes the value in its message', () => {
    const secret = `rmp_${'A'.repeat(80)}`;
    try {
      validateKeyName(secret);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiKeyStoreError);
      expect((error as Error).message).not.toContain('rmp_');
    }
  });
});

describe('validateUserId', () => {
  it.each(['alice', 'a.b-c_d@example.com', 'U'.repeat(128), '0'])('accepts %j', (id) => {
    expect(validateUserId(id)).toBe(id);
  });

  it.each(['', 'U'.repeat(129), 'a b', 'a/b', 'a|b', 'ä', '__proto__ ', 'a:b', undefined])(
    'refuses %j',
    (id) => {
      expect(() => validateUserId(id)).toThrowError(refusal('userId'));
    },
  );
});

describe('validateScopes', () => {
  it('accepts RFC 6749 scope tokens and drops duplicates, keeping order', () => {
    expect(validateScopes(['mcp:read', 'mcp:write', 'mcp:read', '!#[]~'])).toEqual([
      'mcp:read',
      'mcp:write',
      '!#[]~',
    ]);
  });

  it.each([
    [[]],
    [['']],
    [['a b']],
    [['quote"']],
    [['back\\slash']],
    [['tab\t']],
    [['é']],
    [['x'.repeat(129)]],
    [Array.from({ length: 33 }, (_, i) => `s${i}`)],
    ['mcp:read'],
    [[1]],
  ])('refuses %j', (scopes) => {
    expect(() => validateScopes(scopes)).toThrowError(refusal('scopes'));
  });

  it('accepts exactly the strings made of %x21 / %x23-5B / %x5D-7E (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20, unit: 'binary' }), (s) => {
        const valid = [...s].every((c) => {
          const n = c.codePointAt(0)!;
          return n === 0x21 || (n >= 0x23 && n <= 0x5b) || (n >= 0x5d && n <= 0x7e);
        });
        if (valid) expect(validateScopes([s])).toEqual([s]);
        else expect(() => validateScopes([s])).toThrow(ApiKeyStoreError);
      }),
    );
  });
});

describe('validateRoles', () => {
  it('accepts none, or role names, dropping duplicates', () => {
    expect(validateRoles([])).toEqual([]);
    expect(validateRoles(['admin', 'ops:oncall', 'admin'])).toEqual(['admin', 'ops:oncall']);
  });

  it.each([
    [['']],
    [['a b']],
    [['r'.repeat(65)]],
    [Array.from({ length: 33 }, (_, i) => `r${i}`)],
    ['admin'],
  ])('refuses %j', (roles) => {
    expect(() => validateRoles(roles)).toThrowError(refusal('roles'));
  });
});

describe('validateMs', () => {
  it.each([[0], [-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], ['10']])(
    'refuses %j as expiresAt',
    (v) => {
      expect(() => validateMs('expiresAt', v, 1, Number.MAX_SAFE_INTEGER)).toThrowError(refusal('expiresAt'));
    },
  );

  it('accepts a whole number in range', () => {
    expect(validateMs('graceMs', 0, 0, 10)).toBe(0);
    expect(validateMs('graceMs', 10, 0, 10)).toBe(10);
    expect(() => validateMs('graceMs', 11, 0, 10)).toThrowError(refusal('graceMs'));
  });
});
