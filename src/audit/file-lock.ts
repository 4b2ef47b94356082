import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * An exclusive lock between processes: a file created with O_EXCL that holds the owner's pid.
 * The server and the CLI both append to one audit log; each batch is written under this lock so
 * their records join one chain. A lock whose owner is gone (a crash) is taken over.
 */
export async function withFileLock<T>(
  lockPath: string,
  timeoutMs: number,
  fn: () => Promise<T> | T,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (tryLock(lockPath)) break;
    if (Date.now() > deadline) throw new Error(`audit log is locked by another process (${lockPath})`);
    await new Promise((r) => setTimeout(r, Math.min(2 ** attempt, 50)));
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function tryLock(lockPath: string): boolean {
  try {
    const fd = openSync(lockPath, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let owner = Number.NaN;
  try {
    owner = Number(readFileSync(lockPath, 'utf8'));
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
