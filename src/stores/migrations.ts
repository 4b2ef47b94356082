import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { RampartDb } from './schema.js';

/** The table that records applied migrations (kysely's Migrator keeps its lock beside it). */
export const MIGRATION_TABLE = 'rampart_migration';

// Dialect-neutral schema builder code only: the same migrations will run on PostgreSQL. Names are
// ordered and never edited once released; a change is a new migration. `ifNotExists` makes a
// migration safe to re-run should a crash land between the DDL and its bookkeeping row.
const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_users_and_api_keys': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rampart_users')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('roles', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        // A removed user takes its keys with it: no orphan key can outlive its owner.
        .addColumn('user_id', 'text', (c) => c.notNull().references('rampart_users.id').onDelete('cascade'))
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('display_prefix', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('replaced_by', 'text')
        .addColumn('grace_until', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('api_keys_user_id')
        .ifNotExists()
        .on('api_keys')
        .column('user_id')
        .execute();
    },
  },
  '0002_oauth': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('rampart_users').addColumn('password_hash', 'text').execute();
      await db.schema
        .createTable('oauth_clients')
        .ifNotExists()
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('record', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_grants')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('rampart_users.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('oauth_codes')
        .ifNotExists()
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('oauth_refresh_tokens')
        .ifNotExists()
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createTable('oauth_signing_keys')
        .ifNotExists()
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .execute();
    },
  },
  '0003_oauth_pending': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('oauth_pending')
        .ifNotExists()
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

/**
 * Brings a Rampart database to the latest schema; a no-op when it is already there.
 *
 * Two processes may start at once (the server and `rampart keys create`). kysely takes no lock on
 * SQLite, so the loser of that race fails (SQLITE_BUSY, or a duplicate row in the migration
 * table); a failed run is therefore retried, and the retry sees the winner's work and has nothing
 * left to do.
 *
 * @param attempts - runs before giving up (default 3)
 * @throws Error when a migration fails on every attempt (the cause is kysely's error).
 */
export async function migrateToLatest(db: Kysely<RampartDb>, attempts = 3): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  });
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (error === undefined) return;
    lastError = error;
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
  }
  throw new Error('Rampart database migration failed', { cause: lastError });
}
