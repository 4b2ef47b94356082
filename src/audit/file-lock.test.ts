import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLock, LOCK_LEASE_MS } from './file-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `audit-${n++}.log`);
const lockFile = (log: string) => `${log}.lock`;
/** Sets a lock file's mtime `ms` into the past: a holder that stopped refreshing it. */
const age = (path: string, ms: number) => {
  const past = new Date(Date.now() - ms);
  utimesSync(path, past, past);
};
/** The namespace part of this process's lock ids (after `pid:token:`), '' when there is none. */
async function ownScope(): Promise<string> {
  const log = fresh();
  const lock = new FileLock(log, 1000);
  await lock.acquire();
  const scope = readFileSync(lockFile(log), 'utf8').split(':').slice(2).join(':');
  lock.release();
  return scope;
}

describe('FileLock lease', () => {
  it('is well below the default lock timeout (10 s)', () => {
    expect(LOCK_LEASE_MS).toBeGreaterThanOrEqual(2000);
    expect(LOCK_LEASE_MS).toBeLessThanOrEqual(6000);
  });

  it('takes over a lock whose holder stopped refreshing it, even when its pid is alive (pid 1)', async () => {
    const log = fresh();
    writeFileSync(lockFile(log), '1:0123456789ab:another-container');
    age(lockFile(log), LOCK_LEASE_MS + 1000);
    const lock = new FileLock(log, 2000);
    const started = Date.now();
    expect(await lock.acquire()).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(readFileSync(lockFile(log), 'utf8')).toMatch(new RegExp(`^${process.pid}:`));
    lock.release();
    expect(existsSync(lockFile(log))).toBe(false);
    // The stale lock was moved aside and removed: nothing is left behind.
    expect(readdirSync(dir).filter((f) => f.includes('.stale'))).toEqual([]);
  });

  it('leaves a live holder in this pid namespace its lock however long it stalls', async () => {
    const scope = await ownScope();
    if (scope === '') return; // no /proc: pids cannot be judged here
    const log = fresh();
    // The parent of this test process: alive, and not this process.
    writeFileSync(lockFile(log), `${process.ppid}:0123456789ab:${scope}`);
    age(lockFile(log), LOCK_LEASE_MS * 3);
    const lock = new FileLock(log, 300);
    await expect(lock.acquire()).rejects.toThrow(/locked/);
    expect(readFileSync(lockFile(log), 'utf8')).toMatch(new RegExp(`^${process.ppid}:`));
    rmSync(lockFile(log));
  });

  it('does not steal a fresh lock of a writer in another pid namespace, whatever its pid', async () => {
    for (const content of [
      '999999:0123456789ab:other-boot/pid:[1]',
      '999999:0123456789ab',
      `${process.pid}:0123456789ab:elsewhere`,
    ]) {
      const log = fresh();
      writeFileSync(lockFile(log), content);
      const lock = new FileLock(log, 300);
      await expect(lock.acquire(), content).rejects.toThrow(/locked by another process/);
      expect(readFileSync(lockFile(log), 'utf8')).toBe(content);
      // Once its lease runs out it is taken over.
      age(lockFile(log), LOCK_LEASE_MS + 1000);
      expect(await lock.acquire()).toBe(true);
      lock.release();
    }
  });

  it('takes over at once a lock of an earlier process with its own pid (a restarted PID 1)', async () => {
    const scope = await ownScope();
    const log = fresh();
    writeFileSync(lockFile(log), `${process.pid}:0123456789ab:${scope}`);
    const lock = new FileLock(log, 2000);
    const started = Date.now();
    expect(await lock.acquire()).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    lock.release();
  });

  it('takes over at once a fresh lock of a process of its own namespace that is gone', async () => {
    const scope = await ownScope();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const log = fresh();
    writeFileSync(lockFile(log), `${gone}:0123456789ab:${scope}`);
    const lock = new FileLock(log, 2000);
    const started = Date.now();
    expect(await lock.acquire()).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
    lock.release();
  });

  it('leaves alone the lock of another writer of the same process', async () => {
    const log = fresh();
    const a = new FileLock(log, 1000);
    const b = new FileLock(log, 200);
    await a.acquire();
    await expect(b.acquire()).rejects.toThrow(/locked/);
    expect(a.held).toBe(true);
    a.release();
    expect(await b.acquire()).toBe(true);
    b.release();
  });

  it('keeps the lease fresh while held', async () => {
    const log = fresh();
    const lock = new FileLock(log, 1000);
    await lock.acquire();
    age(lockFile(log), LOCK_LEASE_MS - 500);
    await new Promise((r) => setTimeout(r, 1300));
    expect(Date.now() - statSync(lockFile(log)).mtimeMs).toBeLessThan(1500);
    lock.release();
  });

  it('notices before a batch that its lock was taken over, and takes it again', async () => {
    const log = fresh();
    const lock = new FileLock(log, 2000);
    await lock.acquire();
    expect(await lock.acquire()).toBe(false); // still its own: nothing to do
    // Another writer judged it stale and took it over, then died in turn.
    rmSync(lockFile(log));
    writeFileSync(lockFile(log), '999999:0123456789ab:other-boot/pid:[1]');
    age(lockFile(log), LOCK_LEASE_MS + 1000);
    expect(await lock.acquire()).toBe(true);
    expect(readFileSync(lockFile(log), 'utf8')).toMatch(new RegExp(`^${process.pid}:`));
    lock.release();
  });

  it('waits for a live writer that took its lock over, and never removes that writer’s lock', async () => {
    const log = fresh();
    const lock = new FileLock(log, 200);
    await lock.acquire();
    rmSync(lockFile(log));
    writeFileSync(lockFile(log), '999999:0123456789ab:other-boot/pid:[1]');
    await expect(lock.acquire()).rejects.toThrow(/locked/);
    expect(lock.held).toBe(false);
    lock.release();
    expect(readFileSync(lockFile(log), 'utf8')).toBe('999999:0123456789ab:other-boot/pid:[1]');
  });

  it('does not remove a lock it no longer holds when it lets go', async () => {
    const log = fresh();
    const lock = new FileLock(log, 200);
    await lock.acquire();
    rmSync(lockFile(log));
    writeFileSync(lockFile(log), 'someone-else');
    lock.release();
    expect(readFileSync(lockFile(log), 'utf8')).toBe('someone-else');
  });

  it('hands a stale lock to one of several waiters at a time', async () => {
    const log = fresh();
    writeFileSync(lockFile(log), '1:0123456789ab:another-container');
    age(lockFile(log), LOCK_LEASE_MS + 1000);
    const locks = Array.from({ length: 4 }, () => new FileLock(log, 3000));
    let holders = 0;
    let most = 0;
    await Promise.all(
      locks.map(async (lock) => {
        await lock.acquire();
        most = Math.max(most, ++holders);
        await new Promise((r) => setTimeout(r, 20));
        holders--;
        lock.release();
      }),
    );
    expect(most).toBe(1);
  });
});
