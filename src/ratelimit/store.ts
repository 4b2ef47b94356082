import { gcraStep, gcraWouldAllow, type RateDecision } from './gcra.js';
import type { Rate } from './rate.js';

/**
 * Where buckets live. `take` is the one atomic primitive: read the bucket, run the GCRA step and
 * store the result, with no other `take` on the same key in between. A memory store is synchronous;
 * a shared store (Redis, as one Lua script) returns a promise. The limiter accepts either.
 */
export interface RateLimitStore {
  /** Takes one request from `key`'s bucket if the rate allows it. */
  take(key: string, rate: Rate, now: number): RateDecision | Promise<RateDecision>;
  /** Tells whether `take` would allow, changing nothing. */
  peek(key: string, rate: Rate, now: number): RateDecision | Promise<RateDecision>;
  close?(): void | Promise<void>;
}

/** A store that answers at once (no I/O). */
export interface SyncRateLimitStore extends RateLimitStore {
  take(key: string, rate: Rate, now: number): RateDecision;
  peek(key: string, rate: Rate, now: number): RateDecision;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Most buckets kept; past it, idle buckets go first, then the oldest. Default 100,000. */
  readonly maxKeys?: number;
}

/**
 * Buckets in this process's memory: right for one instance. Several instances behind a load
 * balancer each count on their own, so a principal gets N times the budget; use a shared store there.
 *
 * Memory is bounded by `maxKeys`. A bucket whose TAT has passed is as good as absent, so such
 * buckets are dropped first; only if none is idle is the oldest bucket dropped, which forgives it.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SyncRateLimitStore {
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, number>();

  function makeRoom(now: number): void {
    let scanned = 0;
    for (const [key, tat] of buckets) {
      if (tat <= now) buckets.delete(key);
      if (++scanned >= 256 || buckets.size < maxKeys) break;
    }
    if (buckets.size >= maxKeys) {
      const oldest = buckets.keys().next();
      if (!oldest.done) buckets.delete(oldest.value);
    }
  }

  return {
    take(key, rate, now) {
      const stored = buckets.get(key);
      const decision = gcraStep(stored, now, rate);
      if (decision.allowed) {
        if (stored === undefined && buckets.size >= maxKeys) makeRoom(now);
        buckets.set(key, decision.tat);
      }
      return decision;
    },
    peek(key, rate, now) {
      return gcraWouldAllow(buckets.get(key), now, rate);
    },
    close() {
      buckets.clear();
    },
  };
}
