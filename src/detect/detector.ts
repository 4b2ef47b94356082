import type { AuditEntry } from '../audit/record.js';

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
  start: number;
  count: number;
  alerted: boolean;
}

/**
 * Counts authentication failures, denials and rate-limit refusals per client address and per
 * principal in fixed windows, and raises one alert when a count crosses its threshold (then none
 * again for that subject until its window ends). Memory is bounded: past `maxKeys` windows, the
 * oldest is dropped.
 */
export function createDetector(
  thresholds: DetectionThresholds,
  onAlert: (alert: Alert) => void,
  options: { maxKeys?: number; now?: () => number } = {},
) {
  const windows = new Map<string, Window>();
  const maxKeys = options.maxKeys ?? 50_000;
  const now = options.now ?? Date.now;

  function count(
    kind: Alert['kind'],
    subjectType: Alert['subjectType'],
    subject: string,
    threshold: Threshold,
  ) {
    const key = `${kind}|${subjectType}|${subject}`;
    const at = now();
    let w = windows.get(key);
    if (!w || at - w.start >= threshold.windowSeconds * 1000) {
      if (!w && windows.size >= maxKeys) {
        const oldest = windows.keys().next();
        if (!oldest.done) windows.delete(oldest.value);
      }
      w = { start: at, count: 0, alerted: false };
      windows.set(key, w);
    }
    w.count++;
    if (!w.alerted && w.count > threshold.count) {
      w.alerted = true;
      onAlert({ kind, subjectType, subject, count: w.count, windowSeconds: threshold.windowSeconds });
    }
  }

  return {
    /** Feeds one request's audit entry. */
    observe(entry: AuditEntry): void {
      const principal = entry.principal ? `${entry.principal.iss}|${entry.principal.sub}` : undefined;
      if (entry.event === 'auth.failure' && entry.ip && thresholds.authFailuresPerIp) {
        count('auth_failures', 'ip', entry.ip, thresholds.authFailuresPerIp);
      } else if (entry.event === 'authz.denied' && principal && thresholds.deniedPerPrincipal) {
        count('denials', 'principal', principal, thresholds.deniedPerPrincipal);
      } else if (entry.event === 'rate.limited') {
        if (principal && thresholds.rateLimitedPerPrincipal) {
          count('rate_limited', 'principal', principal, thresholds.rateLimitedPerPrincipal);
        } else if (!principal && entry.ip && thresholds.rateLimitedPerIp) {
          count('rate_limited', 'ip', entry.ip, thresholds.rateLimitedPerIp);
        }
      }
    },
  };
}

/** The detector returned by {@link createDetector}. */
export type Detector = ReturnType<typeof createDetector>;
