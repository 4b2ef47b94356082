import { type ChainHead, checkpointEntry, GENESIS, sealRecord } from './chain.js';
import type { AuditSink } from './sink.js';

/**
 * Audit records as lines on standard output, for containers whose log collector keeps them. The
 * chain starts afresh with each process (its first `prev` is 64 zeros); the collector keeps order.
 */
export function openStdoutSink(options: {
  mode: 'durable' | 'buffered';
  checkpointKey?: Buffer | undefined;
  checkpointEvery?: number;
  out?: NodeJS.WritableStream;
}): AuditSink {
  const out = options.out ?? process.stdout;
  const every = options.checkpointEvery ?? 1000;
  let head: ChainHead = { seq: 0, hash: GENESIS };
  let since = 0;
  return {
    mode: options.mode,
    append(entry) {
      const at = Date.now();
      const record = sealRecord(entry, head, at);
      head = record;
      let text = `${record.line}\n`;
      if (options.checkpointKey && ++since >= every) {
        const checkpoint = sealRecord(checkpointEntry(head, options.checkpointKey), head, at);
        head = checkpoint;
        text += `${checkpoint.line}\n`;
        since = 0;
      }
      if (options.mode === 'buffered') {
        out.write(text);
        return undefined;
      }
      return new Promise<void>((resolve, reject) => {
        out.write(text, (error) => (error ? reject(error) : resolve()));
      });
    },
    flush: async () => {},
    close: async () => {},
  };
}
