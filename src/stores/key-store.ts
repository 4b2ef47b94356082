import type { Kysely } from 'kysely';
import { type ApiKeyStore, type ApiKeyStoreOptions, createApiKeyStore } from '../auth/api-keys/store.js';
import { migrateToLatest } from './migrations.js';
import type { RampartDb } from './schema.js';
import { openSqlite } from './sqlite.js';

/** An open key store: the users-and-keys API, its database, and how to close both. */
export interface KeyStore {
  readonly keys: ApiKeyStore;
  readonly db: Kysely<RampartDb>;
  /** Closes the database connection; the store is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * Opens the SQLite key store at `path` (see `openSqlite` for modes and pragmas) and migrates it
 * to the latest schema. The server, the CLI and the demo all open it this way.
 *
 * @param path - the database file, such as `.rampart/rampart.db`, or `:memory:`
 * @param options - passed to `createApiKeyStore` (a clock for tests)
 * @throws Error when the file cannot be opened or the migration fails; the database is closed then.
 * @example
 * const store = await openKeyStore('.rampart/rampart.db');
 * try { await store.keys.listKeys(); } finally { await store.close(); }
 */
export async function openKeyStore(path: string, options: ApiKeyStoreOptions = {}): Promise<KeyStore> {
  const db = openSqlite(path);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { keys: createApiKeyStore(db, options), db, close: () => db.destroy() };
}
