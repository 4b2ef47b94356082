import type { Rate } from './rate.js';

/** The outcome of one GCRA step. */
export interface RateDecision {
  readonly allowed: boolean;
  /** When refused: how long until one request would be allowed, in ms (> 0). */
  readonly retryAfterMs: number;
  /** The bucket's new theoretical arrival time, to store when allowed. */
  readonly tat: number;
}

/**
 * One step of the generic cell rate algorithm (GCRA, ITU-T I.371; the algorithm of the `governor`
 * crate the design names). A bucket is one number, its theoretical arrival time (TAT): requests are
 * spaced `T = period / count` apart, and a burst of up to `count` is tolerated
 * (`tau = T * (count - 1)`). So `100/min` allows 100 requests at once, refuses the 101st, and then
 * admits one every 0.6 s: the same budget as a window, without a window's double burst at its edge.
 *
 * Pure: the store runs it atomically (for Redis, as one script).
 *
 * @param storedTat - the bucket's TAT, or undefined for a new bucket.
 * @param now - the current time in ms.
 */
export function gcraStep(storedTat: number | undefined, now: number, rate: Rate): RateDecision {
  const interval = rate.periodMs / rate.count;
  const tolerance = interval * (rate.count - 1);
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  const wait = tat - tolerance - now;
  if (wait > 0) return { allowed: false, retryAfterMs: wait, tat };
  return { allowed: true, retryAfterMs: 0, tat: tat + interval };
}

/** Whether a request would be allowed now, without taking it. */
export function gcraWouldAllow(storedTat: number | undefined, now: number, rate: Rate): RateDecision {
  const decision = gcraStep(storedTat, now, rate);
  return decision.allowed ? { ...decision, tat: storedTat ?? now } : decision;
}
