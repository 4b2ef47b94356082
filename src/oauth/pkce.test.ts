import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isS256Challenge, verifyPkce } from './pkce.js';

const challengeOf = (v: string) => createHash('sha256').update(v).digest('base64url');
const verifierChars = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~',
);
const verifier = fc.string({ unit: verifierChars, minLength: 43, maxLength: 128 });

describe('verifyPkce', () => {
  it('accepts every well-formed verifier with its own S256 challenge', () => {
    fc.assert(
      fc.property(verifier, (v) => {
        expect(verifyPkce(v, challengeOf(v))).toBe(true);
      }),
    );
  });

  it('refuses another verifier, and any verifier of the wrong length or alphabet', () => {
    fc.assert(
      fc.property(verifier, verifier, (a, b) => {
        fc.pre(a !== b);
        expect(verifyPkce(b, challengeOf(a))).toBe(false);
      }),
    );
    const short = 'a'.repeat(42);
    expect(verifyPkce(short, challengeOf(short))).toBe(false);
    const long = 'a'.repeat(129);
    expect(verifyPkce(long, challengeOf(long))).toBe(false);
    const spaced = `${'a'.repeat(43)} `;
    expect(verifyPkce(spaced, challengeOf(spaced))).toBe(false);
  });

  it('refuses a plain challenge (the verifier itself)', () => {
    const v = 'a'.repeat(43);
    expect(verifyPkce(v, v)).toBe(false);
    expect(isS256Challenge('a'.repeat(42))).toBe(false);
    expect(isS256Challenge('+'.repeat(43))).toBe(false);
  });
});
