import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_LENGTH,
  encodeApiKey,
  generateApiKey,
  generateKeyId,
  hashApiKey,
  isApiKeyShaped,
  isKeyId,
} from './format.js';

// A fixed key, so that tests about single-character changes are deterministic.
const FIXED = encodeApiKey(Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
const ALPHABET_64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('generateApiKey', () => {
  it('has the documented shape: rmp_ + 43 base64url + _ + 6 base62', () => {
    for (let i = 0; i < 200; i++) {
      const { key } = generateApiKey();
      expect(key).toHaveLength(API_KEY_LENGTH);
      expect(key).toMatch(/^rmp_[A-Za-z0-9_-]{43}_[0-9A-Za-z]{6}$/);
      expect(isApiKeyShaped(key)).toBe(true);
    }
  });

  it('carries 32 random bytes: the body decodes to 32 bytes and 1000 keys are all distinct', () => {
    const keys = new Set<string>();
    const hashes = new Set<string>();
    const firstBytes = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const { key, hash } = generateApiKey();
      const secret = Buffer.from(key.slice(4, 47), 'base64url');
      expect(secret).toHaveLength(32);
      expect(secret.toString('base64url')).toBe(key.slice(4, 47)); // canonical
      keys.add(key);
      hashes.add(hash);
      firstBytes.add(secret[0]!);
    }
    expect(keys.size).toBe(1000);
    expect(hashes.size).toBe(1000);
    // 1000 draws of a uniform byte cover well over 200 of its 256 values (expected ~250).
    expect(firstBytes.size).toBeGreaterThan(200);
  });

  it('stores only a hash: SHA-256 hex, never the key or part of its body', () => {
    const { key, hash, displayPrefix } = generateApiKey();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toBe(key);
    expect(hash).toBe(hashApiKey(key));
    expect(hash).not.toContain(key.slice(4, 20));
    expect(displayPrefix).toBe(key.slice(0, 10));
  });
});

describe('isApiKeyShaped', () => {
  it('rejects every single-character change of a valid key (the CRC-32 checksum catches it)', () => {
    expect(isApiKeyShaped(FIXED.key)).toBe(true);
    for (let i = 0; i < FIXED.key.length; i++) {
      for (const c of `${ALPHABET_64URL}.~+/=`) {
        if (c === FIXED.key[i]) continue;
        const changed = FIXED.key.slice(0, i) + c + FIXED.key.slice(i + 1);
        expect(isApiKeyShaped(changed), `position ${i} -> ${c}`).toBe(false);
      }
    }
  });

  it.each([
    ['', 'empty'],
    ['rmp_', 'prefix only'],
    [FIXED.key.slice(0, -1), 'truncated'],
    [`${FIXED.key}x`, 'extended'],
    [` ${FIXED.key}`.slice(0, API_KEY_LENGTH), 'shifted'],
    [FIXED.key.replace('rmp_', 'RMP_'), 'prefix case'],
    [FIXED.key.toUpperCase(), 'upper-cased'],
  ])('rejects %s (%s)', (value) => {
    expect(isApiKeyShaped(value)).toBe(false);
  });

  it('rejects a non-canonical last body character even with a matching checksum', () => {
    // 'B' differs from 'A' only in the 2 padding bits, so the bytes are equal but the spelling is not.
    const body = `${'A'.repeat(42)}B`;
    const canonical = encodeApiKey(new Uint8Array(32)).key;
    expect(canonical.slice(4, 47)).toBe('A'.repeat(43));
    expect(isApiKeyShaped(`rmp_${body}${canonical.slice(47)}`)).toBe(false);
  });

  it('never accepts arbitrary strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        expect(isApiKeyShaped(s)).toBe(false);
      }),
    );
  });
});

describe('encodeApiKey', () => {
  it('refuses a secret that is not 32 bytes', () => {
    expect(() => encodeApiKey(new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('generateKeyId', () => {
  it('is key_ + 16 base32 characters and unique', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = generateKeyId();
      expect(id).toMatch(/^key_[a-z2-7]{16}$/);
      expect(isKeyId(id)).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
    expect(isKeyId('key_AAAAAAAAAAAAAAAA')).toBe(false);
  });
});
