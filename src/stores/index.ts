/** Rampart's own records (users, API keys) in a kysely database: SQLite now, PostgreSQL later. */

export { type KeyStore, openKeyStore } from './key-store.js';
export { MIGRATION_TABLE, migrateToLatest } from './migrations.js';
export type { ApiKeysTable, RampartDb, RampartUsersTable } from './schema.js';
export { openSqlite } from './sqlite.js';
