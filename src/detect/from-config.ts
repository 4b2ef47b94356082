import type { Logger } from 'pino';
import type { AuditEntry } from '../audit/record.js';
import type { RequestFacts } from '../audit/request-entry.js';
import type { AuditSink } from '../audit/sink.js';
import type { ResolvedConfig } from '../config/index.js';
import { createDetector } from './detector.js';
import { createMetrics, type Metrics } from './metrics.js';

/**
 * Metrics and the detector from `metrics` and `detection`. An alert goes to the server log, the
 * `rampart_alerts_total` counter and the audit trail (an `alert` record).
 *
 * @returns the metrics (for `/metrics`), and what the endpoint calls after each request.
 */
export function detectionFromConfig(
  config: ResolvedConfig,
  context: { logger: Logger; audit: AuditSink | undefined },
): { metrics: Metrics | undefined; observe: ((entry: AuditEntry, facts: RequestFacts) => void) | undefined } {
  const { logger, audit } = context;
  const metrics = config.metrics.enabled ? createMetrics() : undefined;
  const settings = config.detection;
  const detector = settings.enabled
    ? createDetector(
        {
          authFailuresPerIp: settings.authFailuresPerIp ?? undefined,
          deniedPerPrincipal: settings.deniedPerPrincipal ?? undefined,
          rateLimitedPerPrincipal: settings.rateLimitedPerPrincipal ?? undefined,
          rateLimitedPerIp: settings.rateLimitedPerIp ?? undefined,
        },
        (alert) => {
          logger.warn({ alert }, 'alert: threshold crossed');
          metrics?.alert(alert.kind);
          const stored = audit?.append({
            event: 'alert',
            outcome: 'deny',
            reason: alert.kind,
            ...(alert.subjectType === 'ip' ? { ip: alert.subject } : {}),
            detail: { ...alert },
          });
          stored?.catch((err) => logger.error({ err }, 'alert not stored in the audit trail'));
        },
      )
    : undefined;
  const observe =
    metrics || detector
      ? (entry: AuditEntry, facts: RequestFacts) => {
          metrics?.observe(entry, facts);
          detector?.observe(entry);
        }
      : undefined;
  return { metrics, observe };
}
