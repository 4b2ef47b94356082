import { describe, expect, it } from 'vitest';
import { TtlCache } from './cache.js';

describe('TtlCache', () => {
  it('returns a value until its expiry, exclusive', () => {
    const cache = new TtlCache<number>(10);
    cache.set('a', 1, 100, 0);
    expect(cache.get('a', 99)).toBe(1);
    expect(cache.get('a', 100)).toBeUndefined();
    expect(cache.size).toBe(0); // the expired entry was dropped on read
  });

  it('does not store what is already expired', () => {
    const cache = new TtlCache<number>(10);
    cache.set('a', 1, 50, 50);
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, evicting the oldest insertion', () => {
    const cache = new TtlCache<number>(3);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) cache.set(k, i, 1000, 0);
    expect(cache.size).toBe(3);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.get('d', 1)).toBe(3);
    cache.set('b', 9, 1000, 0); // re-set moves b to the young end
    cache.set('e', 4, 1000, 0);
    expect(cache.get('c', 1)).toBeUndefined();
    expect(cache.get('b', 1)).toBe(9);
  });

  it('treats keys as plain strings (no prototype lookups)', () => {
    const cache = new TtlCache<number>(10);
    expect(cache.get('__proto__', 0)).toBeUndefined();
    expect(cache.get('constructor', 0)).toBeUndefined();
    cache.set('__proto__', 1, 10, 0);
    expect(cache.get('__proto__', 0)).toBe(1);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
