import { describe, expect, it } from 'vitest';
import { parseRate } from './rate.js';
import { createMemoryStore } from './store.js';

const perMinute = parseRate('1/min')!;
const twoPerHour = parseRate('2/hour')!;

describe('memory store bounds', () => {
  it('makes room from idle buckets without forgiving an active one', () => {
    const store = createMemoryStore({ maxKeys: 1000 });
    for (let i = 0; i < 1000; i++) store.take(`old${i}`, perMinute, 0);
    // At t=60 s the old buckets are idle (as good as new): they make room.
    store.take('active', perMinute, 60_000);
    expect(store.take('active', perMinute, 60_000).allowed).toBe(false);
    for (let i = 0; i < 5000; i++) store.take(`new${i}`, perMinute, 60_000);
    expect(store.take('active', perMinute, 60_000).allowed).toBe(false);
    expect(store.peek('new4999', perMinute, 60_000).allowed).toBe(false);
  });

  it('never evicts a bucket that is still limiting someone, however many new keys arrive', () => {
    // The throttled bucket is the first inserted and never moves: the old store dropped it first.
    const store = createMemoryStore({ maxKeys: 1000 });
    store.take('carol', twoPerHour, 0);
    store.take('carol', twoPerHour, 0);
    expect(store.take('carol', twoPerHour, 0).allowed).toBe(false);
    for (let i = 0; i < 10_000; i++) store.take(`flood${i}`, perMinute, i);
    expect(store.take('carol', twoPerHour, 10_000).allowed).toBe(false);
  });

  it('charges new keys to one shared bucket per rate when every bucket is active (fail closed)', () => {
    const store = createMemoryStore({ maxKeys: 1000 });
    for (let i = 0; i < 1000; i++) store.take(`k${i}`, twoPerHour, 0);
    const first = store.take('fresh1', twoPerHour, 1);
    expect(first).toMatchObject({ allowed: true, shared: true });
    expect(store.take('fresh2', twoPerHour, 1)).toMatchObject({ allowed: true, shared: true });
    // The overflow bucket is used up: every further new key is refused with its wait.
    const refused = store.take('fresh3', twoPerHour, 1);
    expect(refused).toMatchObject({ allowed: false, shared: true });
    expect(refused.retryAfterMs).toBeGreaterThan(1_700_000);
    expect(store.peek('fresh4', twoPerHour, 1).allowed).toBe(false);
    // Another rate has its own overflow bucket, and the resident buckets keep their own budgets.
    expect(store.take('fresh5', perMinute, 1).allowed).toBe(true);
    expect(store.take('k0', twoPerHour, 1).allowed).toBe(true);
    // A refund of a shared charge goes back to the shared bucket.
    store.refund('fresh1', twoPerHour, first);
    expect(store.take('fresh6', twoPerHour, 2).allowed).toBe(true);
    // Once buckets go idle, new keys get buckets of their own again.
    expect(store.take('later', twoPerHour, 3_600_000)).toMatchObject({ allowed: true });
    expect(store.take('later', twoPerHour, 3_600_000).shared).toBeUndefined();
  });

  it('refunds a take exactly, and nothing for a refused one', () => {
    const store = createMemoryStore();
    const two = parseRate('2/min')!;
    const a = store.take('k', two, 0);
    const b = store.take('k', two, 0);
    const refused = store.take('k', two, 0);
    store.refund('k', two, refused);
    expect(store.peek('k', two, 0).allowed).toBe(false);
    store.refund('k', two, b);
    expect(store.take('k', two, 0).allowed).toBe(true);
    expect(store.take('k', two, 0).allowed).toBe(false);
    // Never more than the burst, however many refunds.
    store.refund('k', two, a);
    store.refund('k', two, a);
    store.refund('k', two, a);
    let allowed = 0;
    while (store.take('k', two, 30_000).allowed) allowed++;
    expect(allowed).toBe(2);
  });
});
