import {
  constants,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  readSync,
  renameSync,
  statSync,
} from 'node:fs';
import { type FileHandle, open as openAsync } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { type ChainHead, checkpointEntry, encodeEntry, GENESIS, sealRecord } from './chain.js';
import { makeDirectoryDurably, syncDirectory } from './durable-files.js';
import { FileLock } from './file-lock.js';
import { grow, PendingRecords } from './pending.js';
import type { AuditSink } from './sink.js';

/** Options of {@link openFileSink}. */
export interface FileSinkOptions {
  readonly path: string;
  /**
   * `durable`: `append` resolves once the record is on disk (O_DSYNC writes; many records per write).
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
  const lock = new FileLock(path, options.lockTimeoutMs ?? 10_000);
  const every = options.checkpointEvery ?? 1000;
  if (mode === 'durable') makeDirectoryDurably(dirname(path), 0o700);
  else mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Durable: O_DSYNC makes each write return once its data is on disk, as a write and an fdatasync
  // would, in one trip to the thread pool instead of two. Under load each trip waits for the event
  // loop to finish a turn of requests, so this halves the wait of a group commit (bench/run.mjs,
  // rampart-durable).
  const openFlags =
    mode === 'durable' ? constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC : 'a+';
  const created = !existsSync(path);
  let file: FileHandle = await openAsync(path, openFlags, 0o600);
  // A new log's name must be on disk before any record in it counts as stored.
  if (created && mode === 'durable') syncDirectory(dirname(path));
  let head: ChainHead = { seq: 0, hash: GENESIS };
  let knownSize = -1;
  // Where the last checkpoint this writer knows of is in the chain (undefined until the file is
  // read). Checkpoints are due by chain position, not by this writer's own count, so that with
  // several writers, or after a crash and restart, none goes more than `every` records without
  // one: `audit verify` holds the log to that.
  let lastCheckpointSeq: number | undefined;
  let wrote = false;
  let lastCheckpointAt = Date.now();
  const intervalMs = options.checkpointIntervalMs ?? 60_000;
  // Records wait in `queue` while `spare` (the batch before) is written; then the two swap.
  let queue = new PendingRecords();
  let spare = new PendingRecords();
  // Durable mode: one promise for all the records of the waiting batch, settled when it is stored.
  let queueStored: Deferred | undefined;
  let out: Buffer = Buffer.allocUnsafeSlow(256 * 1024);
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
    file = await openAsync(path, openFlags, 0o600);
    knownSize = -1;
  }

  /** Renames the full log aside and starts the next file with a record chained to it. */
  async function rotate(at: number): Promise<void> {
    if (options.checkpointKey && head.seq > (lastCheckpointSeq ?? -1)) {
      const checkpoint = sealRecord(checkpointEntry(head, options.checkpointKey), head, at);
      await file.write(`${checkpoint.line}\n`);
      head = checkpoint;
      lastCheckpointSeq = checkpoint.seq;
      lastCheckpointAt = at;
    }
    await file.sync();
    const rotated = `${path}.${String(head.seq).padStart(12, '0')}`;
    renameSync(path, rotated);
    await file.close();
    file = await openAsync(path, openFlags, 0o600);
    const first = sealRecord(
      { event: 'log.rotated', outcome: 'allow', detail: { previous: basename(rotated) } },
      head,
      at,
    );
    const { bytesWritten } = await file.write(`${first.line}\n`);
    await file.sync();
    // The rename and the new file's name, or a power cut could leave the records in neither.
    syncDirectory(dirname(path));
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
      lastCheckpointSeq = 0;
      return;
    }
    let last: { seq?: unknown; hash?: unknown; event?: unknown };
    try {
      last = JSON.parse(line);
    } catch {
      throw new Error(`audit log ${path} ends in a record that is not JSON; run "rampart audit verify"`);
    }
    if (typeof last.seq !== 'number' || typeof last.hash !== 'string') {
      throw new Error(`audit log ${path} ends in a record without seq and hash; run "rampart audit verify"`);
    }
    head = { seq: last.seq, hash: last.hash };
    if (last.event === 'checkpoint') lastCheckpointSeq = last.seq;
    // Opening a log that does not end in a checkpoint (a crashed writer's, or a live one's): no
    // checkpoint this writer knows vouches for its tail, so the first record it writes is followed
    // by one.
    else lastCheckpointSeq ??= Number.NEGATIVE_INFINITY;
  }

  async function writeBatch(batch: PendingRecords): Promise<void> {
    await lock.acquire();
    try {
      // Every batch: a rotation or truncation from outside shows here even while the lock is held.
      await followRotation();
      syncHead();
      if (options.rotateBytes && knownSize >= options.rotateBytes) await rotate(batch.firstAt ?? Date.now());
      knownSize += await appendSealed(batch);
    } catch (error) {
      // The head moved past records that may not be stored: re-read it from the file next time.
      knownSize = -1;
      lock.release();
      throw error;
    }
    // Records that came during the write are the next batch: keep the lock for it.
    lock.afterBatch(queue.count > 0);
  }

  /** Seals a batch after the head, with checkpoints where due, and writes it in one call. */
  async function appendSealed(batch: PendingRecords): Promise<number> {
    if (out.length < batch.sealedBytes()) out = grow(out, 0, batch.sealedBytes());
    let pos = 0;
    for (let i = 0; i < batch.count; i++) {
      const sealed = batch.sealInto(i, head, out, pos);
      head = sealed.head;
      pos = sealed.end;
      const at = batch.at(i);
      const since = head.seq - (lastCheckpointSeq ?? 0);
      if (options.checkpointKey && (since >= every || at - lastCheckpointAt >= intervalMs)) {
        const checkpoint = sealRecord(checkpointEntry(head, options.checkpointKey), head, at);
        const line = `${checkpoint.line}\n`;
        const room = pos + 3 * line.length + batch.sealedBytes();
        if (out.length < room) out = grow(out, pos, room);
        pos += out.write(line, pos);
        head = checkpoint;
        lastCheckpointSeq = checkpoint.seq;
        lastCheckpointAt = at;
      }
    }
    wrote = true;
    const { bytesWritten } = await file.write(out, 0, pos);
    if (bytesWritten !== pos) throw new Error(`short write to audit log ${path} (disk full?)`);
    return bytesWritten;
  }

  /** Writes everything queued, one batch at a time; records arriving meanwhile form the next. */
  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    // After the write in flight, look again: its end may have started the next batch, which
    // whoever flushes (close, shutdown) must also wait for.
    if (writing) return writing.then(flush);
    if (queue.count === 0) return Promise.resolve();
    const batch = queue;
    const stored = queueStored;
    queue = spare;
    queueStored = undefined;
    writing = writeBatch(batch).then(
      () => stored?.resolve(),
      (error: unknown) => {
        stored?.reject(error);
        if (mode === 'buffered') options.onError?.(error);
      },
    );
    return writing.then(() => {
      writing = undefined;
      batch.clear();
      spare = batch;
      // Group commit: whatever queued up during this write goes out as one batch now (buffered
      // mode waits for its interval unless a full batch is already waiting).
      if (queue.count > 0) return mode === 'durable' || queue.count >= BATCH ? flush() : schedule();
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
      queue.push(encodeEntry(entry), Date.now());
      if (mode === 'buffered') {
        // While a write is in flight, the batch it leaves behind is taken when it ends.
        if (queue.count >= BATCH) {
          if (!writing) void flush();
        } else schedule();
        return undefined;
      }
      queueStored ??= deferred();
      const stored = queueStored.promise;
      if (!writing) void flush();
      return stored;
    },
    flush,
    async close() {
      if (closed) return;
      await flush();
      closed = true;
      if (options.checkpointKey && wrote) {
        await lock.acquire();
        try {
          await followRotation();
          syncHead();
          // What this writer wrote is vouched for on the way out, unless a checkpoint already is.
          if (head.seq > (lastCheckpointSeq ?? -1)) {
            const checkpoint = sealRecord(
              checkpointEntry(head, options.checkpointKey as Buffer),
              head,
              Date.now(),
            );
            const { bytesWritten } = await file.write(`${checkpoint.line}\n`);
            knownSize += bytesWritten;
          }
        } finally {
          lock.release();
        }
      }
      lock.release();
      await file.sync();
      await file.close();
    },
  };
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
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
