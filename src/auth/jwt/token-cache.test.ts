import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './token-cache.js';

describe('VerifiedTokenCache', () => {
  it('keeps an entry until min(expiresAt, now + maxTtl), exclusive', () => {
    const cache = new VerifiedTokenCache<string>(10, 60_000);
    cache.set('early-exp', 'a', 1_000 + 5_000, 1_000);
    cache.set('late-exp', 'b', 1_000_000, 1_000);
    expect(cache.get('early-exp', 5_999)).toBe('a');
    expect(cache.get('early-exp', 6_000)).toBeUndefined();
    expect(cache.get('late-exp', 60_999)).toBe('b');
    expect(cache.get('late-exp', 61_000)).toBeUndefined();
    expect(cache.stats()).toEqual({ cacheHits: 2, cacheMisses: 2, cacheSize: 0 });
  });

  it('does not store what has already expired', () => {
    const cache = new VerifiedTokenCache<string>(10, 60_000);
    cache.set('t', 'a', 1_000, 1_000);
    expect(cache.stats().cacheSize).toBe(0);
  });

  it('evicts the least recently used entry when full', () => {
    const cache = new VerifiedTokenCache<string>(2, 60_000);
    cache.set('a', 'A', 1e12, 0);
    cache.set('b', 'B', 1e12, 0);
    expect(cache.get('a', 1)).toBe('A');
    cache.set('c', 'C', 1e12, 0);
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toBe('A');
    expect(cache.get('c', 1)).toBe('C');
  });

  it('never exceeds maxEntries and never returns a value at or past its deadline (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.nat(20), exp: fc.nat(200), dt: fc.nat(30) }),
      fc.record({ kind: fc.constant('get' as const), key: fc.nat(20), dt: fc.nat(30) }),
    );
    fc.assert(
      fc.property(fc.nat(5), fc.nat(100), fc.array(op, { maxLength: 200 }), (max, ttl, ops) => {
        const cache = new VerifiedTokenCache<number>(max, ttl);
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          const key = `k${o.key}`;
          if (o.kind === 'set') {
            cache.set(key, Math.min(o.exp, now + ttl), o.exp, now); // the value is its own deadline
          } else {
            const value = cache.get(key, now);
            if (value !== undefined) expect(value).toBeGreaterThan(now);
          }
          expect(cache.stats().cacheSize).toBeLessThanOrEqual(max);
        }
      }),
    );
  });

  it('matches a whole token, never another one that shares its tail', () => {
    const cache = new VerifiedTokenCache<string>(10, 60_000);
    const tail = 'S'.repeat(40);
    cache.set(`header.payload-of-alice.${tail}`, 'alice', 1e12, 0);
    expect(cache.get(`header.payload-of-mallory.${tail}`, 1)).toBeUndefined();
    expect(cache.get(`header.payload-of-alice.${tail}`, 1)).toBe('alice');
    // A second verified token with that tail takes the entry over; neither answers for the other.
    cache.set(`header.payload-of-bob.${tail}`, 'bob', 1e12, 2);
    expect(cache.get(`header.payload-of-alice.${tail}`, 3)).toBeUndefined();
    expect(cache.get(`header.payload-of-bob.${tail}`, 3)).toBe('bob');
  });
});
