import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes a directory's entries durable: a file created, renamed or linked in it. Without it a
 * power cut can lose a new log file whole, records that were synced in it included, since fsync
 * of a file does not cover its name (POSIX; ext4 without a journal, as on the VM this was
 * written on, really loses it).
 *
 * @throws Error from the file system, except where a platform cannot sync a directory at all.
 */
export function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    if (cannotSyncDirectories(error)) return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    if (!cannotSyncDirectories(error)) throw error;
  } finally {
    closeSync(fd);
  }
}

function cannotSyncDirectories(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'ENOTSUP';
}

/**
 * Creates `path` holding `content`, or leaves it as it is when it exists. The content is written
 * and synced under a temporary name and then linked into place, so another process never reads
 * the file half written (with a plain exclusive create, a second process could read it empty) and
 * a power cut leaves either the whole file or none.
 *
 * @returns whether this call created the file.
 */
export function createFileOnce(path: string, content: string, mode: number): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSynced(fd, content);
    try {
      linkSync(temp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // A file system without hard links (some network and FUSE mounts): an exclusive create,
      // which another process may read before it is written.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS')
        return createExclusive(path, content, mode);
      throw error;
    }
    syncDirectory(dirname(path));
    return true;
  } finally {
    unlinkSync(temp);
  }
}

function createExclusive(path: string, content: string, mode: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  writeSynced(fd, content);
  syncDirectory(dirname(path));
  return true;
}

/** Writes `content` to a new file, syncs and closes it. */
function writeSynced(fd: number, content: string): void {
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * `mkdir -p` whose new directories' names are on disk too: the parent of the first one made is
 * synced (the others are inside it, made by this call, and synced when a file is made in them).
 */
export function makeDirectoryDurably(dir: string, mode: number): void {
  const made = mkdirSync(dir, { recursive: true, mode });
  if (made !== undefined) syncDirectory(dirname(made));
}
