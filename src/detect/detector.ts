import type { AuditEntry } from '../audit/record.js';
import { addressBucket } from '../ratelimit/client-ip.js';

/** A threshold: more than `count` events within `windowSeconds` raises an alert. */
export interface Threshold {
  readonly count: number;
  readonly windowSeconds: number;
}

/** What the detector watches, per client address and per principal. */
export interface DetectionThresholds {
  readonly authFailuresPerIp?: Threshold | undefined;
  readonly deniedPerPrincipal?: Threshold | undefined;
  readonly rateLimitedPerPrincipal?: Threshold | undefined;
  readonly rateLimitedPerIp?: Threshold | undefined;
}

/** An alert: who crossed which threshold. */
export interface Alert {
  readonly kind: 'auth_failures' | 'denials' | 'rate_limited';
  /** `ip` or `principal`. */
  readonly subjectType: 'ip' | 'principal';
  readonly subject: string;
  readonly count: number;
  readonly windowSeconds: number;
}

interface Window {
  /** Start of the current window (ms). */
  start: number;
  current: number;
  previous: number;
  windowMs: number;
  /** No second alert for this subject before then. */
  quietUntil: number;
}

/** What a full table counts in when no window in it has ended: one subject for everyone. */
const OVERFLOW = '(overflow)';

/**
 * Counts authentication failures, denials and rate-limit refusals per client address (IPv6 by
 * /64, as the failed-login budget counts them) and per principal, and raises one alert when a
 * count crosses its threshold, then none for that subject for one window.
 *
 * Sliding windows (the previous window's count, weighted by how much of it still overlaps, plus
 * the current one's): with fixed windows twice the threshold fitted across a window's edge
 * unseen. Memory is bounded: past `maxKeys` subjects, one whose windows have both ended is
 * dropped; when none has, new subjects share one `(overflow)` count, which alerts like any
 * subject. Dropping open windows instead would let a flood of fresh addresses wipe a principal's
 * count.
 */
export function createDetector(
  thresholds: DetectionThresholds,
  onAlert: (alert: Alert) => void,
  options: { maxKeys?: number; now?: () => number } = {},
) {
  // Insertion order is the order in which windows last moved on: the first entry is the stalest.
  const windows = new Map<string, Window>();
  const maxKeys = options.maxKeys ?? 50_000;
  const now = options.now ?? Date.now;

  /** `id` tells subjects apart (a principal's issuer and subject, length-prefixed); `subject` names it. */
  function count(
    kind: Alert['kind'],
    subjectType: Alert['subjectType'],
    subject: string,
    id: string,
    threshold: Threshold,
  ) {
    const at = now();
    const windowMs = threshold.windowSeconds * 1000;
    let key = `${kind}|${subjectType}|${id}`;
    let w = windows.get(key);
    if (!w) {
      if (windows.size >= maxKeys && !dropEnded(at)) {
        subject = OVERFLOW;
        key = `${kind}|${subjectType}|${OVERFLOW}`;
        w = windows.get(key);
      }
      if (!w) {
        w = { start: at, current: 0, previous: 0, windowMs, quietUntil: 0 };
        windows.set(key, w);
      }
    }
    const elapsed = at - w.start;
    if (elapsed >= 2 * windowMs) {
      w.previous = 0;
      w.current = 0;
      w.start = at;
    } else if (elapsed >= windowMs) {
      w.previous = w.current;
      w.current = 0;
      w.start += windowMs;
    }
    if (elapsed >= windowMs) {
      windows.delete(key);
      windows.set(key, w);
    }
    w.current++;
    const overlap = Math.max(0, 1 - (at - w.start) / windowMs);
    const seen = Math.ceil(w.previous * overlap + w.current);
    if (seen > threshold.count && at >= w.quietUntil) {
      w.quietUntil = at + windowMs;
      onAlert({ kind, subjectType, subject, count: seen, windowSeconds: threshold.windowSeconds });
    }
  }

  /** Drops the stalest subject if both its windows have ended; whether it did. */
  function dropEnded(at: number): boolean {
    const first = windows.entries().next();
    if (first.done) return false;
    const [key, w] = first.value;
    if (at - w.start < 2 * w.windowMs || key.endsWith(`|${OVERFLOW}`)) return false;
    windows.delete(key);
    return true;
  }

  return {
    /** Feeds one request's audit entry. */
    observe(entry: AuditEntry): void {
      const p = entry.principal;
      const principal = p ? `${p.iss}|${p.sub}` : undefined;
      const principalId = p ? `${p.iss.length}:${p.iss}|${p.sub}` : '';
      // Only refusals are counted by address: most entries never need the bucket.
      const ip =
        entry.ip === undefined || (entry.event !== 'auth.failure' && entry.event !== 'rate.limited')
          ? undefined
          : addressBucket(entry.ip);
      if (entry.event === 'auth.failure' && ip && thresholds.authFailuresPerIp) {
        count('auth_failures', 'ip', ip, ip, thresholds.authFailuresPerIp);
      } else if (isDenial(entry) && principal && thresholds.deniedPerPrincipal) {
        count('denials', 'principal', principal, principalId, thresholds.deniedPerPrincipal);
      } else if (entry.event === 'rate.limited') {
        if (principal && thresholds.rateLimitedPerPrincipal) {
          count('rate_limited', 'principal', principal, principalId, thresholds.rateLimitedPerPrincipal);
        } else if (!principal && ip && thresholds.rateLimitedPerIp) {
          count('rate_limited', 'ip', ip, ip, thresholds.rateLimitedPerIp);
        }
      }
    },
  };
}

/**
 * A denial: by scope or role before the call, or by the tool's own rules (an `allow` rule, a
 * refused path), which probing another user's rows or a path traversal runs into.
 */
function isDenial(entry: AuditEntry): boolean {
  return entry.event === 'authz.denied' || (entry.event === 'tool.call' && entry.outcome === 'deny');
}

/** The detector returned by {@link createDetector}. */
export type Detector = ReturnType<typeof createDetector>;
