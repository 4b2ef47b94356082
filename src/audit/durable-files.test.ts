import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index.js';
import { createFileOnce, makeDirectoryDurably, syncDirectory } from './durable-files.js';
import { loadCheckpointKey } from './open.js';

const scratch = () => mkdtempSync(join(tmpdir(), 'rampart-durable-files-'));

describe('createFileOnce', () => {
  it('creates the file whole, with its mode, and leaves no temporary file behind', () => {
    const dir = scratch();
    const path = join(dir, 'key');
    expect(createFileOnce(path, 'first', 0o600)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['key']);
  });

  it('leaves an existing file as it is', () => {
    const dir = scratch();
    const path = join(dir, 'key');
    writeFileSync(path, 'kept');
    expect(createFileOnce(path, 'other', 0o600)).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('kept');
    expect(readdirSync(dir)).toEqual(['key']);
  });
});

describe('makeDirectoryDurably', () => {
  it('makes missing directories, with their mode, and leaves existing ones', () => {
    const dir = join(scratch(), 'a', 'b');
    makeDirectoryDurably(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(() => makeDirectoryDurably(dir, 0o700)).not.toThrow();
  });
});

describe('syncDirectory', () => {
  it('syncs a directory, and reports one that is not there', () => {
    const dir = scratch();
    expect(() => syncDirectory(dir)).not.toThrow();
    expect(() => syncDirectory(join(dir, 'missing'))).toThrow(/ENOENT/);
  });
});

describe('loadCheckpointKey', () => {
  const config = (dataDir: string) => resolveConfig({ storage: { dataDir } });

  it('makes a 256-bit key on first use and reads the same one after', async () => {
    const dir = scratch();
    const key = await loadCheckpointKey(config(dir));
    expect(key.toString('utf8')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await loadCheckpointKey(config(dir))).equals(key)).toBe(true);
    expect(statSync(join(dir, 'audit.key')).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file that is empty or short (damaged), rather than sign with it', async () => {
    for (const content of ['', '\n', 'short-key']) {
      const dir = scratch();
      writeFileSync(join(dir, 'audit.key'), content);
      await expect(loadCheckpointKey(config(dir))).rejects.toThrow(/fewer than 32/);
    }
  });
});
