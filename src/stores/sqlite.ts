import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { RampartDb } from './schema.js';

/**
 * Opens (creating if needed) a SQLite file for Rampart's records. It does not migrate: call
 * `migrateToLatest(db)`, or use `openKeyStore`, which does both.
 *
 * The file holds key hashes and user roles, so it is private to the service account: the parent
 * directory is created with mode 0700 and the file is created, or tightened, to 0600 before
 * SQLite opens it (SQLite gives its `-wal` and `-shm` files the database file's mode). Pragmas:
 * WAL, so the server's reads never block on the CLI's writes; `busy_timeout = 5000` ms, so a
 * writer waits for a lock instead of failing; `foreign_keys = ON`, which SQLite leaves off by
 * default and which the user -> keys cascade relies on. `:memory:` skips the file system.
 *
 * @param path - the database file, or `:memory:`
 * @throws Error from the file system or SQLite when the file cannot be created or opened.
 * @example
 * const db = openSqlite('.rampart/rampart.db');
 * await migrateToLatest(db);
 */
export function openSqlite(path: string): Kysely<RampartDb> {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600)); // creates with 0600; the mode is ignored if it exists
    chmodSync(path, 0o600); // an existing file (or a loose umask) is tightened too
  }
  const sqlite = new Database(path);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  return new Kysely<RampartDb>({ dialect: new SqliteDialect({ database: sqlite }) });
}
