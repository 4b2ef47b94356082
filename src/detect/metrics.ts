import { Registry } from 'prom-client';
import type { AuditEntry } from '../audit/record.js';
import type { RequestFacts } from '../audit/request-entry.js';
import { CounterFamily, HistogramFamily } from './series.js';

/** Rampart's Prometheus metrics, in a registry of its own (never the process-global one). */
export interface Metrics {
  readonly registry: Registry;
  /** Counts one finished request. */
  observe(entry: AuditEntry, facts: RequestFacts): void;
  /** Counts an alert raised by the detector. */
  alert(kind: string): void;
}

/**
 * The counters and histograms served at `/metrics`. Labels are bounded sets (event, outcome,
 * reason code, tool name, alert kind): never a principal or an address, whose number an attacker
 * controls. Who did what is in the audit trail; the detector watches principals and addresses.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const requests = new CounterFamily('rampart_requests_total', 'MCP requests by audit event and outcome', [
    'event',
    'outcome',
  ]);
  const refusals = new CounterFamily(
    'rampart_refusals_total',
    'Requests refused by the boundary, by error code (authentication, authorization, rate limits, protocol)',
    ['code'],
  );
  const toolCalls = new CounterFamily('rampart_tool_calls_total', 'Tool calls by tool and outcome', [
    'tool',
    'outcome',
  ]);
  const duration = new HistogramFamily(
    'rampart_request_duration_seconds',
    'Time spent in the endpoint, by tool (empty for other methods) and outcome',
    ['tool', 'outcome'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  const alerts = new CounterFamily('rampart_alerts_total', 'Alerts raised by the detector, by kind', [
    'kind',
  ]);
  for (const family of [requests, refusals, toolCalls, duration, alerts]) family.register(registry);
  // Tool names come from the request: a name becomes a label value only once a tool of that name
  // has run (the dispatcher reports how it ended), never for an unknown tool or a notification
  // (which names any tool and runs none). The cap is a second line, for a mounted server that
  // answers any name.
  const seenTools = new Set<string>();
  const MAX_TOOLS = 1000;

  return {
    registry,
    observe(entry, facts) {
      requests.inc(entry.event, entry.outcome);
      if (facts.code) refusals.inc(facts.code);
      let tool = '';
      if (entry.event === 'tool.call' && facts.tool && facts.toolOutcome !== undefined) {
        if (seenTools.has(facts.tool) || seenTools.size < MAX_TOOLS) {
          seenTools.add(facts.tool);
          tool = facts.tool;
          toolCalls.inc(tool, entry.outcome);
        } else {
          tool = '(other)';
          toolCalls.inc(tool, entry.outcome);
        }
      }
      duration.observe(tool, entry.outcome, facts.durationMs / 1000);
    },
    alert(kind) {
      alerts.inc(kind);
    },
  };
}
