import { describe, expect, it } from 'vitest';
import { gcraStep } from './gcra.js';
import { parseRate } from './rate.js';
import { createMemoryStore } from './store.js';

const rate = parseRate('100/min')!;

describe('GCRA', () => {
  it('allows exactly the burst at once, refuses the next, and says when to come back', () => {
    const store = createMemoryStore();
    const now = 1_000_000;
    for (let i = 1; i <= 100; i++) expect(store.take('k', rate, now)).toMatchObject({ allowed: true });
    const refused = store.take('k', rate, now);
    expect(refused).toMatchObject({ allowed: false });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeCloseTo(600, 6);
    // Just before the retry time: still refused; at it: allowed, and only one.
    expect(store.take('k', rate, now + 599)).toMatchObject({ allowed: false });
    expect(store.take('k', rate, now + 600)).toMatchObject({ allowed: true });
    expect(store.take('k', rate, now + 600)).toMatchObject({ allowed: false });
  });

  it('refills at the sustained rate, never above the burst', () => {
    const store = createMemoryStore();
    for (let i = 0; i < 100; i++) store.take('k', rate, 0);
    // A whole idle hour later the bucket holds one burst, not sixty.
    let allowed = 0;
    while (store.take('k', rate, 3_600_000).allowed) allowed++;
    expect(allowed).toBe(100);
  });

  it('does not charge a refused request', () => {
    const one = parseRate('1/min')!;
    const first = gcraStep(undefined, 0, one);
    const refused = gcraStep(first.tat, 10, one);
    expect(refused.allowed).toBe(false);
    expect(refused.tat).toBe(first.tat);
  });

  it('peeks without taking', () => {
    const store = createMemoryStore();
    const two = parseRate('2/min')!;
    expect(store.peek('k', two, 0)).toMatchObject({ allowed: true });
    store.take('k', two, 0);
    store.take('k', two, 0);
    expect(store.peek('k', two, 0)).toMatchObject({ allowed: false });
    expect(store.peek('other', two, 0)).toMatchObject({ allowed: true });
  });

  it('bounds memory: idle buckets go first, then the oldest', () => {
    const store = createMemoryStore({ maxKeys: 1000 });
    const one = parseRate('1/min')!;
    for (let i = 0; i < 1000; i++) store.take(`old${i}`, one, 0);
    // At t=60 s the old buckets are idle (as good as new): room is made without forgiving anyone active.
    store.take('active', one, 60_000);
    expect(store.take('active', one, 60_000).allowed).toBe(false);
    for (let i = 0; i < 5000; i++) store.take(`new${i}`, one, 60_000);
    expect(store.peek('new4999', one, 60_000).allowed).toBe(false);
  });
});
