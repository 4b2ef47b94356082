import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  futimesSync,
  linkSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

/** A waiter that has not said so again for this long is gone (waiters say so every ≤ 50 ms). */
const WANT_STALE_MS = 1000;

/**
 * A lock file from another pid namespace (or host) not refreshed for this long is stale: its
 * holder is gone or hung. Below the default lock timeout (10 s), so that a waiter outlasts the
 * lease of a dead holder.
 */
export const LOCK_LEASE_MS = 5000;

/** How often a holder refreshes its lock file's mtime: a third of the lease, to survive a late timer. */
const REFRESH_MS = 1000;

/** Lock ids this process holds now: another writer of the same log in this process is alive. */
const heldHere = new Set<string>();

/**
 * An exclusive lock between the writers of one audit log (servers and the CLI): a lock file
 * created with O_EXCL that holds the owner's `pid:token:namespace`.
 *
 * Staleness: within one pid namespace of one boot, the pid decides: a lock whose pid is gone, or
 * that holds this process's pid but not one of its locks (a restarted PID 1 finds its own pid in
 * the lock it left), is taken over at once, and a live holder keeps it however long it stalls.
 * From another pid namespace (a container, a second replica) a live writer's pid looks dead or
 * belongs to someone else, so there a lease decides: the holder refreshes the file's mtime about
 * once a second while it holds it, and a lock not refreshed for {@link LOCK_LEASE_MS} is taken
 * over.
 *
 * A writer with batches coming one after another keeps the lock from batch to batch instead of
 * creating and removing the file for each: those two directory changes cost ~1.5 µs a request
 * with a durable audit trail under load (bench/run.mjs, rampart-durable, alternated runs), and
 * the next synced write must journal them. Before each batch it checks the lock file (one stat) to
 * confirm it still holds it (a writer in another namespace that stalled past its lease may have lost it), and takes it
 * again if not. A writer that wants the lock says so in a want file (`<log>.want`, refreshed while
 * it waits); the holder lets go after its current batch and does not take the lock again while
 * someone else's fresh want stands.
 */
export class FileLock {
  readonly #lockPath: string;
  readonly #wantPath: string;
  readonly #timeoutMs: number;
  readonly #id = `${process.pid}:${randomBytes(6).toString('hex')}:${pidScope()}`;
  #held = false;
  /** Our lock file, open while held: a refresh touches it, never a lock that replaced it. */
  #fd: number | undefined;
  #refreshedAt = 0;
  /** Our lock file's identity, to tell it from one another writer made in its place. */
  #ino = 0;
  #dev = 0;
  #timer: NodeJS.Timeout | undefined;

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
   * Takes the lock unless this writer holds it already; called before each batch. A holder
   * confirms that the lock file is still its own (one stat), and takes the lock again if not.
   *
   * @returns true when the lock was taken now (another writer may have appended since).
   * @throws Error when another writer keeps it for longer than the timeout.
   */
  async acquire(): Promise<boolean> {
    if (this.#held) {
      if (this.#stillOurs()) {
        this.#refresh();
        return false;
      }
      this.#forget(); // taken over while we stalled: never touch the new holder's file
    }
    const deadline = Date.now() + this.#timeoutMs;
    for (let attempt = 0; ; attempt++) {
      // Whoever asked first goes first; a waiter never overwrites another's want.
      if (!this.#someoneElseWants()) {
        const fd = tryLock(this.#lockPath, this.#id);
        if (fd !== undefined) {
          this.#take(fd);
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

  /** Lets the lock go, if held; a lock file that another writer took over stays. */
  release(): void {
    if (!this.#held) return;
    try {
      if (this.#stillOurs()) unlinkSync(this.#lockPath);
    } catch {
      // Gone meanwhile: nothing to release.
    }
    this.#forget();
  }

  /**
   * Whether the lock file is still the one this writer made: one stat (the file's identity) rather
   * than reading it, since a takeover always puts a new file in its place.
   */
  #stillOurs(): boolean {
    try {
      const { ino, dev } = statSync(this.#lockPath);
      return ino === this.#ino && dev === this.#dev;
    } catch {
      return false;
    }
  }

  #take(fd: number): void {
    const { ino, dev } = fstatSync(fd);
    this.#ino = ino;
    this.#dev = dev;
    this.#held = true;
    this.#fd = fd;
    this.#refreshedAt = Date.now();
    heldHere.add(this.#id);
    // Keeps the lease through a long batch (a slow disk); unref'd, so it never keeps a process up.
    this.#timer = setInterval(() => this.#refresh(), REFRESH_MS);
    this.#timer.unref();
  }

  #forget(): void {
    this.#held = false;
    heldHere.delete(this.#id);
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // Closed already.
      }
      this.#fd = undefined;
    }
  }

  /** Renews the lease, at most once a second: batches come far more often, and each is one syscall. */
  #refresh(): void {
    const now = Date.now();
    if (this.#fd === undefined || now - this.#refreshedAt < REFRESH_MS) return;
    this.#refreshedAt = now;
    try {
      futimesSync(this.#fd, now / 1000, now / 1000);
    } catch {
      // The next batch's check finds out whether the lock is still ours.
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

/**
 * Creates the lock file holding `id`, taking over a stale one: its open descriptor, or undefined
 * when another writer holds the lock.
 */
function tryLock(lockPath: string, id: string): number | undefined {
  const fd = create(lockPath, id);
  if (fd !== undefined) return fd;
  const seen = readLock(lockPath);
  if (seen === undefined || !isStale(seen)) return undefined;
  takeOver(lockPath, seen);
  return create(lockPath, id);
}

function create(lockPath: string, id: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
    writeSync(fd, id);
    return fd;
  } catch (error) {
    if (fd !== undefined) {
      // Created but not written (disk full?): an empty lock would hold others off for a lease.
      closeSync(fd);
      unlinkSync(lockPath);
    }
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
}

interface LockState {
  /** `pid:token:namespace`, or '' when unreadable (another user's file). */
  readonly content: string;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** The lock file's content, mtime and inode from one descriptor; undefined when there is none. */
function readLock(path: string): LockState | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') return undefined; // released meanwhile: try again
    try {
      const { mtimeMs, ino } = statSync(path);
      return { content: '', mtimeMs, ino };
    } catch {
      return undefined;
    }
  }
  try {
    const { mtimeMs, ino } = fstatSync(fd);
    return { content: readFrom(fd), mtimeMs, ino };
  } finally {
    closeSync(fd);
  }
}

function isStale({ content, mtimeMs }: LockState): boolean {
  const [pidText, token, ...rest] = content.split(':');
  const scope = rest.join(':');
  const pid = Number(pidText);
  if (token && Number.isSafeInteger(pid) && pid > 0 && scope !== '' && scope === pidScope()) {
    // In our own pid namespace, on this boot, the pid tells for sure: a live holder keeps its
    // lock however long it stalls (a pause, a stopped process), a dead one loses it at once.
    if (pid === process.pid) return !heldHere.has(content); // an earlier process that had our pid
    return !isAlive(pid);
  }
  // Elsewhere (another container, another host) only the lease can tell. An empty or unreadable
  // lock within its lease may be one being created right now.
  return Date.now() - mtimeMs > LOCK_LEASE_MS;
}

/**
 * Removes a stale lock so that O_EXCL can create ours. By rename, then a second look: when two
 * waiters judge the same lock stale, the second one's rename may move the lock the first one has
 * just made, and it puts that one back instead of deleting it.
 */
function takeOver(lockPath: string, seen: LockState): void {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else took it over first
  }
  const moved = readLock(aside);
  if (moved !== undefined && (moved.ino !== seen.ino || moved.content !== seen.content || !isStale(moved))) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // A third writer has made a lock meanwhile; the one moved finds out before its next batch.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Gone already.
  }
}

const readBuffer = Buffer.alloc(512);

function readFrom(fd: number): string {
  const length = readSync(fd, readBuffer, 0, readBuffer.length, 0);
  return readBuffer.toString('utf8', 0, length);
}

let scope: string | undefined;

/**
 * This process's pid namespace on this boot of this host ('' when unknown, off Linux): pids in
 * lock files compare only within it. The boot id tells hosts sharing a file system apart, whose
 * initial namespaces have the same id.
 */
function pidScope(): string {
  if (scope === undefined) {
    try {
      scope = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      scope = '';
    }
  }
  return scope;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
