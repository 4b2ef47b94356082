import type { AuditEntry } from './record.js';

/**
 * Where audit records go. `append` returns a promise in durable sinks (resolved once the record is
 * stored) and nothing in buffered ones; the endpoint awaits it before answering.
 */
export interface AuditSink {
  readonly mode: 'durable' | 'buffered';
  append(entry: AuditEntry): Promise<void> | undefined;
  /** Writes whatever is pending. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
