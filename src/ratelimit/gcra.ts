import type { Rate } from './rate.js';

/** The outcome of one GCRA step. */
export interface RateDecision {
  readonly allowed: boolean;
  /** When refused: how long until one request would be allowed, in ms (> 0). */
  readonly retryAfterMs: number;
  /** The bucket's new theoretical arrival time in whole microseconds, to store when allowed. */
  readonly tat: number;
  /**
   * True when a full memory store charged the request to its shared overflow bucket rather than
   * to the key's own (see `createMemoryStore`); a refund must then go there too.
   */
  readonly shared?: boolean;
}

/** Milliseconds to the whole microseconds buckets count in (nearest: `x / 1000 * 1000` may miss by 1e-9). */
export function toMicros(ms: number): number {
  return Math.round(ms * 1000);
}

/**
 * The spacing of a rate's requests in whole microseconds, rounded up: a rate is never exceeded,
 * and whole numbers add up exactly (below 2^53 µs, about 285 years), so a bucket does not drift.
 */
export function intervalMicros(rate: Rate): number {
  return Math.ceil((rate.periodMs * 1000) / rate.count);
}

/**
 * One step of the generic cell rate algorithm (GCRA, ITU-T I.371; the algorithm of the `governor`
 * crate the design names). A bucket is one number, its theoretical arrival time (TAT): requests are
 * spaced `T = period / count` apart, and a burst of up to `count` is tolerated
 * (`tau = T * (count - 1)`). So `100/min` allows 100 requests at once, refuses the 101st, and then
 * admits one every 0.6 s: the same budget as a window, without a window's double burst at its edge.
 *
 * Times are whole microseconds: `T` is rounded up to one, so the TAT built by repeated `+ T` and
 * `tau` built by one multiplication agree exactly, and a same-instant burst of `count` is admitted
 * whatever the rate (with fractional milliseconds the last request of a burst could miss by 1e-4 ms).
 *
 * Pure: the store runs it atomically (for Redis, as one script).
 *
 * @param storedTat - the bucket's TAT in µs, or undefined for a new bucket.
 * @param nowUs - the current time in whole µs (see {@link toMicros}).
 */
export function gcraStep(storedTat: number | undefined, nowUs: number, rate: Rate): RateDecision {
  const interval = intervalMicros(rate);
  const tolerance = interval * (rate.count - 1);
  const tat = storedTat === undefined || storedTat < nowUs ? nowUs : storedTat;
  const wait = tat - tolerance - nowUs;
  if (wait > 0) return { allowed: false, retryAfterMs: wait / 1000, tat };
  return { allowed: true, retryAfterMs: 0, tat: tat + interval };
}

/** Whether a request would be allowed now, without taking it. */
export function gcraWouldAllow(storedTat: number | undefined, nowUs: number, rate: Rate): RateDecision {
  const decision = gcraStep(storedTat, nowUs, rate);
  return decision.allowed ? { ...decision, tat: storedTat ?? nowUs } : decision;
}
