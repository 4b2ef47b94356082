import { fstatSync, ftruncateSync, mkdirSync, readSync, renameSync, statSync } from 'node:fs';
import { type FileHandle, open as openAsync } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  type ChainHead,
  checkpointEntry,
  type EncodedEntry,
  encodeEntry,
  GENESIS,
  sealRecord,
} from './chain.js';
import { withFileLock } from './file-lock.js';
import type { AuditSink } from './sink.js';

/** Options of {@link openFileSink}. */
export interface FileSinkOptions {
  readonly path: string;
  /**
   * `durable`: `append` resolves once the record is on disk (fdatasync; many records per sync).
   * `buffered`: `append` returns at once; records are written within `flushIntervalMs`.
   */
  readonly mode: 'durable' | 'buffered';
  /** Key of the keyed checkpoints; none without it. */
  readonly checkpointKey?: Buffer | undefined;
  /** A checkpoint after this many records of this writer. Default 1000. */
  readonly checkpointEvery?: number;
  /** And at the latest after this long, when records were written since the last. Default 60 s. */
  readonly checkpointIntervalMs?: number;
  /**
   * Buffered mode: the longest a record waits to be written. Default 50 ms: records that wait
   * longer live through young collections and are promoted (200 ms cost ~6 % of a request's CPU in
   * GC under load, bench GC column).
   */
  readonly flushIntervalMs?: number;
  /**
   * Rotate once the file reaches this size: it is renamed `<path>.<last seq, 12 digits>` and a new
   * file starts with a `log.rotated` record that continues the chain. Default: never.
   */
  readonly rotateBytes?: number | undefined;
  /** How long to wait for another process's lock on the log. Default 10 s. */
  readonly lockTimeoutMs?: number;
  /** Told about write failures in buffered mode (durable callers get them from `append`). */
  readonly onError?: (error: unknown) => void;
}

interface Pending {
  /** Encoded at append: a waiting record holds three strings, not the entry's objects. */
  readonly entry: EncodedEntry;
  readonly at: number;
  readonly done?: { resolve(): void; reject(error: unknown): void };
}

/** Buffered mode writes at once when this many records wait. */
const BATCH = 4096;

/** The longest record line the tail reader looks back for; records are far smaller. */
const TAIL_BYTES = 65_536;

/**
 * An append-only, hash-chained JSON Lines file. Records are sealed when their batch is written,
 * under an inter-process lock, after re-reading the chain head if another writer moved it. A torn
 * last line (a crash mid-write) is cut off before appending: its batch was never synced, so none of
 * its calls were answered in durable mode.
 */
export async function openFileSink(options: FileSinkOptions): Promise<AuditSink> {
  const { path, mode } = options;
  const lockPath = `${path}.lock`;
  const every = options.checkpointEvery ?? 1000;
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let file: FileHandle = await openAsync(path, 'a+', 0o600);
  let head: ChainHead = { seq: 0, hash: GENESIS };
  let knownSize = -1;
  let sinceCheckpoint = 0;
  let lastCheckpointAt = Date.now();
  const intervalMs = options.checkpointIntervalMs ?? 60_000;
  let queue: Pending[] = [];
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  /** After another writer rotated the log, continues in the new file. */
  async function followRotation(): Promise<void> {
    let current: number | undefined;
    try {
      current = statSync(path).ino;
    } catch {
      current = undefined;
    }
    if (current === fstatSync(file.fd).ino) return;
    await file.close();
    file = await openAsync(path, 'a+', 0o600);
    knownSize = -1;
  }

  /** Renames the full log aside and starts the next file with a record chained to it. */
  async function rotate(at: number): Promise<void> {
    if (options.checkpointKey && sinceCheckpoint > 0) {
      const checkpoint = sealRecord(checkpointEntry(head, options.checkpointKey), head, at);
      await file.write(`${checkpoint.line}\n`);
      head = checkpoint;
      sinceCheckpoint = 0;
      lastCheckpointAt = at;
    }
    await file.sync();
    const rotated = `${path}.${String(head.seq).padStart(12, '0')}`;
    renameSync(path, rotated);
    await file.close();
    file = await openAsync(path, 'a+', 0o600);
    const first = sealRecord(
      { event: 'log.rotated', outcome: 'allow', detail: { previous: basename(rotated) } },
      head,
      at,
    );
    const { bytesWritten } = await file.write(`${first.line}\n`);
    await file.sync();
    head = first;
    knownSize = bytesWritten;
  }

  /** Reads the chain head from the file's tail, cutting off a torn last line. */
  function syncHead(): void {
    const size = fstatSync(file.fd).size;
    if (size === knownSize) return;
    const { line, completeSize } = readLastLine(file.fd, size);
    if (completeSize < size) ftruncateSync(file.fd, completeSize);
    knownSize = completeSize;
    if (line === undefined) {
      head = { seq: 0, hash: GENESIS };
      return;
    }
    let last: { seq?: unknown; hash?: unknown };
    try {
      last = JSON.parse(line);
    } catch {
      throw new Error(`audit log ${path} ends in a record that is not JSON; run "rampart audit verify"`);
    }
    if (typeof last.seq !== 'number' || typeof last.hash !== 'string') {
      throw new Error(`audit log ${path} ends in a record without seq and hash; run "rampart audit verify"`);
    }
    head = { seq: last.seq, hash: last.hash };
  }

  async function writeBatch(batch: Pending[]): Promise<void> {
    await withFileLock(lockPath, lockTimeoutMs, async () => {
      await followRotation();
      syncHead();
      if (options.rotateBytes && knownSize >= options.rotateBytes) await rotate(batch[0]?.at ?? Date.now());
      const lines: string[] = [];
      for (const item of batch) {
        const record = sealRecord(item.entry, head, item.at);
        head = record;
        lines.push(record.line);
        sinceCheckpoint++;
        const due = sinceCheckpoint >= every || item.at - lastCheckpointAt >= intervalMs;
        if (options.checkpointKey && due) {
          const checkpoint = sealRecord(checkpointEntry(head, options.checkpointKey), head, item.at);
          head = checkpoint;
          lines.push(checkpoint.line);
          sinceCheckpoint = 0;
          lastCheckpointAt = item.at;
        }
      }
      const text = `${lines.join('\n')}\n`;
      const { bytesWritten } = await file.write(text);
      knownSize += bytesWritten;
      if (mode === 'durable') await file.datasync();
    });
  }

  /** Writes everything queued, one batch at a time; records arriving meanwhile form the next. */
  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (writing) return writing.then(() => (queue.length > 0 ? flush() : undefined));
    if (queue.length === 0) return Promise.resolve();
    const batch = queue;
    queue = [];
    writing = writeBatch(batch).then(
      () => {
        for (const item of batch) item.done?.resolve();
      },
      (error: unknown) => {
        for (const item of batch) item.done?.reject(error);
        if (mode === 'buffered') options.onError?.(error);
      },
    );
    return writing.then(() => {
      writing = undefined;
      // Group commit: whatever queued up during this write goes out as one batch now (buffered
      // mode waits for its interval unless a full batch is already waiting).
      if (queue.length > 0) return mode === 'durable' || queue.length >= BATCH ? flush() : schedule();
    });
  }

  function schedule(): void {
    if (!timer && !closed) {
      timer = setTimeout(() => void flush(), options.flushIntervalMs ?? 50);
      timer.unref();
    }
  }

  return {
    mode,
    append(entry) {
      if (closed) throw new Error('audit sink is closed');
      const at = Date.now();
      const encoded = encodeEntry(entry);
      if (mode === 'buffered') {
        queue.push({ entry: encoded, at });
        // While a write is in flight, the batch it leaves behind is taken when it ends.
        if (queue.length >= BATCH) {
          if (!writing) void flush();
        } else schedule();
        return undefined;
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ entry: encoded, at, done: { resolve, reject } });
        if (!writing) void flush();
      });
    },
    flush,
    async close() {
      if (closed) return;
      await flush();
      closed = true;
      if (options.checkpointKey && sinceCheckpoint > 0) {
        await withFileLock(lockPath, lockTimeoutMs, async () => {
          await followRotation();
          syncHead();
          const checkpoint = sealRecord(
            checkpointEntry(head, options.checkpointKey as Buffer),
            head,
            Date.now(),
          );
          const { bytesWritten } = await file.write(`${checkpoint.line}\n`);
          knownSize += bytesWritten;
        });
      }
      await file.sync();
      await file.close();
    },
  };
}

/** The last complete line of a file, and the size up to its newline (what follows is torn). */
export function readLastLine(fd: number, size: number): { line: string | undefined; completeSize: number } {
  if (size === 0) return { line: undefined, completeSize: 0 };
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  readSync(fd, buffer, 0, length, size - length);
  const end = buffer.lastIndexOf(0x0a);
  if (end < 0) {
    if (length === size) return { line: undefined, completeSize: 0 };
    throw new Error('audit log has a line longer than 64 KiB at its end');
  }
  const completeSize = size - length + end + 1;
  const start = buffer.lastIndexOf(0x0a, end - 1) + 1;
  if (start === 0 && length < size) throw new Error('audit log has a line longer than 64 KiB at its end');
  const line = buffer.subarray(start, end).toString('utf8');
  return { line: line.length > 0 ? line : undefined, completeSize };
}
