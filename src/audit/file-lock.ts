import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

/** A waiter that has not said so again for this long is gone (waiters say so every ≤ 50 ms). */
const WANT_STALE_MS = 1000;

/**
 * An exclusive lock between the writers of one audit log (servers and the CLI): a lock file
 * created with O_EXCL that holds the owner's `pid:token`. A lock whose owner process is gone (a
 * crash) is taken over.
 *
 * A writer with batches coming one after another keeps the lock from batch to batch instead of
 * creating and removing the file for each: those two directory changes cost ~1.5 µs a request
 * with a durable audit trail under load (bench/run.mjs, rampart-durable, alternated runs), and
 * the next synced write must journal them. A writer that wants the lock says so in a want file
 * (`<log>.want`, refreshed while it waits); the holder lets go after its current batch and does
 * not take the lock again while someone else's fresh want stands.
 */
export class FileLock {
  readonly #lockPath: string;
  readonly #wantPath: string;
  readonly #timeoutMs: number;
  readonly #id = `${process.pid}:${randomBytes(6).toString('hex')}`;
  #held = false;

  constructor(logPath: string, timeoutMs: number) {
    this.#lockPath = `${logPath}.lock`;
    this.#wantPath = `${logPath}.want`;
    this.#timeoutMs = timeoutMs;
  }

  /** Whether this writer holds the lock now. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Takes the lock unless this writer holds it already.
   *
   * @returns true when the lock was taken now (another writer may have appended since).
   * @throws Error when another writer keeps it for longer than the timeout.
   */
  async acquire(): Promise<boolean> {
    if (this.#held) return false;
    const deadline = Date.now() + this.#timeoutMs;
    for (let attempt = 0; ; attempt++) {
      // Whoever asked first goes first; a waiter never overwrites another's want.
      if (!this.#someoneElseWants()) {
        if (tryLock(this.#lockPath, this.#id)) {
          this.#held = true;
          this.#withdrawWant();
          return true;
        }
        this.#sayWant();
      }
      if (Date.now() > deadline) {
        this.#withdrawWant();
        throw new Error(`audit log is locked by another process (${this.#lockPath})`);
      }
      await new Promise((r) => setTimeout(r, Math.min(2 ** attempt, 50)));
    }
  }

  /** After a batch: keeps the lock when another batch follows and nobody else waits, else lets go. */
  afterBatch(another: boolean): void {
    if (!this.#held) return;
    if (another && !this.#someoneElseWants()) return;
    this.release();
  }

  /** Lets the lock go, if held. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      unlinkSync(this.#lockPath);
    } catch {
      // Already gone (taken over as stale): nothing to release.
    }
  }

  /** Whether a fresh want file of another writer stands; a stale one is removed. */
  #someoneElseWants(): boolean {
    if (!existsSync(this.#wantPath)) return false;
    try {
      if (readFileSync(this.#wantPath, 'utf8') === this.#id) return false;
      if (Date.now() - statSync(this.#wantPath).mtimeMs < WANT_STALE_MS) return true;
      unlinkSync(this.#wantPath);
    } catch {
      // Withdrawn meanwhile.
    }
    return false;
  }

  #sayWant(): void {
    try {
      writeFileSync(this.#wantPath, this.#id, { mode: 0o600 });
    } catch {
      // Best effort: without it the holder still lets go when it goes idle.
    }
  }

  #withdrawWant(): void {
    try {
      if (readFileSync(this.#wantPath, 'utf8') === this.#id) unlinkSync(this.#wantPath);
    } catch {
      // None, or another writer's.
    }
  }
}

function tryLock(lockPath: string, id: string): boolean {
  try {
    const fd = openSync(lockPath, 'wx', 0o600);
    writeSync(fd, id);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let owner = Number.NaN;
  try {
    owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
  } catch {
    return false; // released meanwhile: try again
  }
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
    try {
      unlinkSync(lockPath);
    } catch {
      // Someone else took it over first.
    }
  }
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
