import { write, writeSync } from 'node:fs';
import { grow } from '../audit/pending.js';

/** Options of {@link createLogWriter}. */
export interface LogWriterOptions {
  /** The file descriptor written to. Default 1 (standard output). */
  readonly fd?: number;
  /** The longest a line waits before it is written. Default 50 ms. */
  readonly flushIntervalMs?: number;
  /** Write at once when this many bytes wait. Default 64 KiB. */
  readonly batchBytes?: number;
  /** Lines are dropped (and counted) while this many bytes wait unwritten. Default 16 MiB. */
  readonly maxPendingBytes?: number;
}

/** Where Rampart's own logger writes: lines are batched and written asynchronously. */
export interface LogWriter {
  /** Queues one or more whole lines (each ending in a newline). */
  write(lines: string): boolean;
  /** Calls back once everything queued so far is written. */
  flush(callback?: (error?: Error) => void): void;
  /** Writes everything queued, synchronously (done at process exit until {@link close}). */
  flushSync(): void;
  /** Stops writing at process exit; what is queued is still written by {@link flush}. */
  close(): void;
}

/** How long a synchronous write waits, in all, for a full non-blocking pipe. */
const SYNC_PATIENCE_MS = 1000;
const pause = new Int32Array(new SharedArrayBuffer(4));

// One exit hook for every writer: what is still queued at exit is written synchronously.
const liveWriters = new Set<() => void>();
let hooked = false;
function writeAllAtExit(): void {
  for (const flushSync of liveWriters) flushSync();
}

/**
 * Rampart's default log destination: lines wait in memory and go out in one asynchronous write
 * every `flushIntervalMs`, or at once when `batchBytes` wait, and synchronously at process exit.
 *
 * Why not pino.destination (sonic-boom): with `minLength` it measures the byte length of the whole
 * waiting buffer on every line, which cost ~4 µs a request with the access log on (bench/run.mjs,
 * `rampart` against `rampart-nolog`, 2026-11-29), and it writes only once `minLength` is reached,
 * so on a quiet server a request's line could wait for the next few kilobytes of traffic.
 */
export function createLogWriter(options: LogWriterOptions = {}): LogWriter {
  const fd = options.fd ?? 1;
  const intervalMs = options.flushIntervalMs ?? 50;
  const batchBytes = options.batchBytes ?? 64 * 1024;
  const maxPending = options.maxPendingBytes ?? 16 * 1024 * 1024;
  // Lines wait as UTF-8 bytes outside the JS heap: strings held for the interval would live through
  // young collections and be copied each time. Two buffers: one fills while the other is written.
  let pending: Buffer = Buffer.allocUnsafeSlow(256 * 1024);
  let spare: Buffer = Buffer.allocUnsafeSlow(256 * 1024);
  let used = 0;
  let dropped = 0;
  let writing = false;
  let timer: NodeJS.Timeout | undefined;
  let waiters: ((error?: Error) => void)[] = [];
  /** A batch refused by a full non-blocking pipe, to be tried again. */
  let retry: { bytes: Buffer; offset: number } | undefined;

  const append = (lines: string) => {
    // UTF-16 code units take at most 3 bytes each in UTF-8.
    if (used + 3 * lines.length > pending.length) pending = grow(pending, used, used + 3 * lines.length);
    used += pending.write(lines, used);
  };

  /** Says how many lines were dropped, if any, after the lines that were kept. */
  const noteDropped = () => {
    if (dropped === 0) return;
    append(
      `{"level":40,"time":${Date.now()},"dropped":${dropped},"msg":"log lines dropped: output too slow"}\n`,
    );
    dropped = 0;
  };

  /** The waiting bytes, to be written; new lines go to the other buffer meanwhile. */
  const take = (): Buffer => {
    noteDropped();
    const out = pending.subarray(0, used);
    // The other buffer is free: only one write is in flight at a time.
    const full = pending;
    pending = spare;
    spare = full;
    used = 0;
    return out;
  };

  const settle = (error?: Error) => {
    const done = waiters;
    waiters = [];
    for (const waiter of done) waiter(error);
  };

  const writeOut = (bytes: Buffer, offset: number) => {
    write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
      if (error) {
        // A non-blocking pipe that is full: try again shortly. Anything else loses this batch.
        if (error.code === 'EAGAIN') {
          const again = { bytes, offset };
          retry = again;
          setTimeout(() => {
            // Unless an exit wrote it meanwhile.
            if (retry !== again) return;
            retry = undefined;
            writeOut(bytes, offset);
          }, 10).unref();
          return;
        }
        writing = false;
        settle(error);
        next();
        return;
      }
      if (offset + written < bytes.length) {
        writeOut(bytes, offset + written);
        return;
      }
      writing = false;
      next();
    });
  };

  /** After a write: the next batch if one is full or someone waits, else the timer. */
  const next = () => {
    if (used === 0) {
      settle();
      return;
    }
    if (used >= batchBytes || waiters.length > 0) start();
    else schedule();
  };

  const start = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (writing || used === 0) return;
    writing = true;
    writeOut(take(), 0);
  };

  const schedule = () => {
    if (!timer) {
      timer = setTimeout(() => {
        timer = undefined;
        start();
      }, intervalMs);
      timer.unref();
    }
  };

  const flushSync = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    // A batch waiting to be tried again is not in flight: it goes first. (One in flight in the
    // thread pool cannot be waited for here; the kernel finishes it or it is lost with the process.)
    if (retry) {
      writeAllSync(retry.bytes.subarray(retry.offset));
      retry = undefined;
      writing = false;
      settle();
    }
    noteDropped();
    if (used === 0) return;
    // The waiting buffer is written in place (the other one may be in flight).
    writeAllSync(pending.subarray(0, used));
    used = 0;
  };

  /** Writes synchronously; a pipe that stays full for a second gets the rest dropped, not a hang. */
  const writeAllSync = (bytes: Buffer) => {
    let offset = 0;
    for (let waited = 0; offset < bytes.length && waited < SYNC_PATIENCE_MS; ) {
      try {
        offset += writeSync(fd, bytes, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        Atomics.wait(pause, 0, 0, 1);
        waited++;
      }
    }
  };
  liveWriters.add(flushSync);
  if (!hooked) {
    hooked = true;
    process.on('exit', writeAllAtExit);
  }

  return {
    write(lines) {
      if (used > maxPending) {
        dropped++;
        return false;
      }
      append(lines);
      if (!writing) {
        if (used >= batchBytes) start();
        else schedule();
      }
      return true;
    },
    flush(callback) {
      if (callback) {
        if (!writing && used === 0) {
          callback();
          return;
        }
        waiters.push(callback);
      }
      start();
    },
    flushSync,
    close() {
      liveWriters.delete(flushSync);
    },
  };
}
