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
 * unseen. Memory is bounded: each threshold has a table of its own (so all its windows have one
 * length, and the first entry is the stalest); past `maxKeys` subjects in a table, one whose
 * windows have both ended is dropped, and when none has, new subjects share that table's
 * `(overflow)` count, which alerts like any subject. Dropping open windows instead would let a
 * flood of fresh addresses wipe a principal's count.
 */
export function createDetector(
  thresholds: DetectionThresholds,
  onAlert: (alert: Alert) => void,
  options: { maxKeys?: number; now?: () => number } = {},
) {
  const maxKeys = options.maxKeys ?? 50_000;
  const now = options.now ?? Date.now;

  /** One threshold's subjects. Insertion order is the order in which windows last moved on. */
  class Table {
    readonly windows = new Map<string, Window>();
    overflow: Window | undefined;
    constructor(
      readonly kind: Alert['kind'],
      readonly subjectType: Alert['subjectType'],
      readonly threshold: Threshold,
    ) {}

    /** `id` tells subjects apart (a principal's issuer and subject, length-prefixed); `subject` names it. */
    count(subject: string, id: string): void {
      const at = now();
      const { windows, threshold } = this;
      const windowMs = threshold.windowSeconds * 1000;
      let w = windows.get(id);
      let overflowed = false;
      if (!w) {
        if (windows.size < maxKeys || this.dropEnded(at, windowMs)) {
          w = fresh(at);
          windows.set(id, w);
        } else {
          this.overflow ??= fresh(at);
          w = this.overflow;
          overflowed = true;
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
      if (elapsed >= windowMs && !overflowed) {
        windows.delete(id);
        windows.set(id, w);
      }
      w.current++;
      const overlap = Math.max(0, 1 - (at - w.start) / windowMs);
      const seen = Math.ceil(w.previous * overlap + w.current);
      if (seen > threshold.count && at >= w.quietUntil) {
        w.quietUntil = at + windowMs;
        onAlert({
          kind: this.kind,
          subjectType: this.subjectType,
          subject: overflowed ? OVERFLOW : subject,
          count: seen,
          windowSeconds: threshold.windowSeconds,
        });
      }
    }

    /** Drops the stalest subject if both its windows have ended; whether it did. */
    dropEnded(at: number, windowMs: number): boolean {
      const first = this.windows.entries().next();
      if (first.done || at - first.value[1].start < 2 * windowMs) return false;
      this.windows.delete(first.value[0]);
      return true;
    }
  }

  const table = (kind: Alert['kind'], subjectType: Alert['subjectType'], threshold: Threshold | undefined) =>
    threshold ? new Table(kind, subjectType, threshold) : undefined;
  const authFailuresPerIp = table('auth_failures', 'ip', thresholds.authFailuresPerIp);
  const deniedPerPrincipal = table('denials', 'principal', thresholds.deniedPerPrincipal);
  const rateLimitedPerPrincipal = table('rate_limited', 'principal', thresholds.rateLimitedPerPrincipal);
  const rateLimitedPerIp = table('rate_limited', 'ip', thresholds.rateLimitedPerIp);

  return {
    /** Feeds one request's audit entry. */
    observe(entry: AuditEntry): void {
      // Only refusals are counted: most entries return here, and build no key.
      let counted: Table | undefined;
      if (entry.event === 'auth.failure') counted = authFailuresPerIp;
      else if (isDenial(entry)) counted = entry.principal ? deniedPerPrincipal : undefined;
      else if (entry.event === 'rate.limited')
        counted = entry.principal ? rateLimitedPerPrincipal : rateLimitedPerIp;
      if (!counted) return;
      if (counted.subjectType === 'ip') {
        if (entry.ip === undefined) return;
        const ip = addressBucket(entry.ip);
        counted.count(ip, ip);
      } else {
        const p = entry.principal as NonNullable<AuditEntry['principal']>;
        counted.count(`${p.iss}|${p.sub}`, `${p.iss.length}:${p.iss}|${p.sub}`);
      }
    },
  };
}

function fresh(at: number): Window {
  return { start: at, current: 0, previous: 0, quietUntil: 0 };
}

/** The tool's own refusals that probing runs into: an allow rule (another user's rows), a path. */
const PROBING_REASONS: ReadonlySet<string> = new Set(['denied_by_rule', 'ERR_TOOL_PATH_REFUSED']);

/**
 * A denial: by scope or role before the call, or by the tool's own rules (an `allow` rule, a
 * refused path). Invalid arguments are not: models send them all the time and retry.
 */
function isDenial(entry: AuditEntry): boolean {
  return (
    entry.event === 'authz.denied' ||
    (entry.event === 'tool.call' &&
      entry.outcome === 'deny' &&
      entry.reason !== undefined &&
      PROBING_REASONS.has(entry.reason))
  );
}

/** The detector returned by {@link createDetector}. */
export type Detector = ReturnType<typeof createDetector>;
