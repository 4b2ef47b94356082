import { gcraStep, gcraWouldAllow, intervalMicros, type RateDecision, toMicros } from './gcra.js';
import type { Rate } from './rate.js';

/**
 * Where buckets live. `take` is the one atomic primitive: read the bucket, run the GCRA step and
 * store the result, with no other `take` on the same key in between. A memory store is synchronous;
 * a shared store (Redis, as one Lua script) returns a promise. The limiter accepts either.
 */
export interface RateLimitStore {
  /** Takes one request from `key`'s bucket if the rate allows it. `now` is in ms. */
  take(key: string, rate: Rate, now: number): RateDecision | Promise<RateDecision>;
  /** Tells whether `take` would allow, changing nothing. */
  peek(key: string, rate: Rate, now: number): RateDecision | Promise<RateDecision>;
  /**
   * Gives back the request that `take` charged to `key` (`taken` is what it answered; nothing
   * happens unless it was allowed). The bucket ends as if that take had not happened, never better.
   */
  refund(key: string, rate: Rate, taken: RateDecision): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** A store that answers at once (no I/O). */
export interface SyncRateLimitStore extends RateLimitStore {
  take(key: string, rate: Rate, now: number): RateDecision;
  peek(key: string, rate: Rate, now: number): RateDecision;
  refund(key: string, rate: Rate, taken: RateDecision): void;
}

/**
 * Milliseconds on a clock that never steps back, in the range of `Date.now()`: the time origin of
 * this process plus the monotonic time since. A wall clock stepped back an hour (NTP, a restored
 * VM) would otherwise lock a bucket for that hour. The clock the limiter gives a memory store.
 */
export function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Most buckets kept. Default 100,000. */
  readonly maxKeys?: number;
}

/** The most buckets looked at to make room for one new key. */
const MAX_SCAN = 64;
/** The longest a full store goes without looking for idle buckets again, in µs. */
const CROWDED_MAX_US = 1_000_000;

/**
 * Buckets in this process's memory: right for one instance. Several instances behind a load
 * balancer each count on their own, so a principal gets N times the budget; use a shared store there.
 * Times should come from {@link monotonicNow} (the limiter's default).
 *
 * Memory is bounded by `maxKeys`, and a bucket still limiting someone (its TAT ahead) is never
 * dropped: forgiving it would let a throttled client reset its own limit by minting new keys. To
 * make room for a new key the store drops an idle bucket (TAT passed: as good as absent), looking
 * at up to 64 of the least recently inserted; active ones it meets go to the back of the line. When
 * none is idle, the new key is charged to one overflow bucket per rate, shared by every key in
 * that position (fail closed: a flood of new keys throttles itself, not the buckets it displaced),
 * and the store looks again once one of those buckets goes idle, within a second. Every step is
 * O(1): a lookup, and at most 64 moves when the store is full.
 * Keys anyone can mint before signing in belong in a store of their own, apart from principals'.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SyncRateLimitStore {
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, number>();
  // Weak: the limiter's rates live as long as it does, and nothing else keeps an entry here.
  const overflow = new WeakMap<Rate, number>();

  // After a scan found nothing idle, new keys share the overflow bucket without scanning until
  // the first bucket it saw goes idle, or for a second at most: a flood of new keys into a full
  // store costs one scan a second, not one per request.
  let crowdedUntil = Number.NEGATIVE_INFINITY;

  /** Drops one idle bucket; false when the buckets looked at are all active. */
  function makeRoom(nowUs: number): boolean {
    if (nowUs < crowdedUntil) return false;
    let scanned = 0;
    let soonest = nowUs + CROWDED_MAX_US;
    for (const [key, tat] of buckets) {
      buckets.delete(key);
      if (tat <= nowUs) return true;
      // Still limiting someone: kept, and moved to the back so the next scan looks further on.
      buckets.set(key, tat);
      if (tat < soonest) soonest = tat;
      if (++scanned >= MAX_SCAN) break;
    }
    crowdedUntil = soonest;
    return false;
  }

  function takeShared(rate: Rate, nowUs: number): RateDecision {
    const decision = gcraStep(overflow.get(rate), nowUs, rate);
    if (decision.allowed) overflow.set(rate, decision.tat);
    return {
      allowed: decision.allowed,
      retryAfterMs: decision.retryAfterMs,
      tat: decision.tat,
      shared: true,
    };
  }

  return {
    take(key, rate, now) {
      const nowUs = toMicros(now);
      const stored = buckets.get(key);
      if (stored === undefined && buckets.size >= maxKeys && !makeRoom(nowUs)) return takeShared(rate, nowUs);
      const decision = gcraStep(stored, nowUs, rate);
      if (decision.allowed) buckets.set(key, decision.tat);
      return decision;
    },
    peek(key, rate, now) {
      const nowUs = toMicros(now);
      const stored = buckets.get(key);
      // A new key in a full store may well be charged to the overflow bucket: answer for that one.
      if (stored === undefined && buckets.size >= maxKeys)
        return gcraWouldAllow(overflow.get(rate), nowUs, rate);
      return gcraWouldAllow(stored, nowUs, rate);
    },
    refund(key, rate, taken) {
      if (!taken.allowed) return;
      if (taken.shared) {
        const tat = overflow.get(rate);
        if (tat !== undefined) overflow.set(rate, tat - intervalMicros(rate));
        return;
      }
      // Absent: dropped once idle, so there is nothing left to give back.
      const tat = buckets.get(key);
      if (tat !== undefined) buckets.set(key, tat - intervalMicros(rate));
    },
    close() {
      buckets.clear();
    },
  };
}
