import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKeyStore } from './key-store.js';
import { MIGRATION_TABLE, migrateToLatest } from './migrations.js';
import { openSqlite } from './sqlite.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-sqlite-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const isPosix = process.platform !== 'win32';

describe('openSqlite', () => {
  it.runIf(isPosix)('creates the parent directory 0700 and the file 0600', async () => {
    const path = join(dir, 'nested', 'state', 'rampart.db');
    const db = openSqlite(path);
    await migrateToLatest(db);
    expect(statSync(join(dir, 'nested', 'state')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    await db.destroy();
  });

  it.runIf(isPosix)('tightens an existing, world-readable file to 0600', async () => {
    const path = join(dir, 'loose.db');
    writeFileSync(path, '', { mode: 0o644 });
    const db = openSqlite(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await db.destroy();
  });

  it('sets WAL, busy_timeout 5000 and foreign keys on', async () => {
    const db = openSqlite(join(dir, 'p.db'));
    const pragma = async (name: string) => {
      const { rows } = await sql<Record<string, unknown>>`select * from ${sql.raw(`pragma_${name}`)}`.execute(
        db,
      );
      return Object.values(rows[0] ?? {})[0];
    };
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('busy_timeout')).toBe(5000);
    expect(await pragma('foreign_keys')).toBe(1);
    await db.destroy();
  });
});

describe('migrateToLatest', () => {
  it('creates the tables once and is idempotent across opens', async () => {
    const path = join(dir, 'm.db');
    for (let i = 0; i < 3; i++) {
      const db = openSqlite(path);
      await migrateToLatest(db);
      await migrateToLatest(db);
      const tables = await db.introspection.getTables();
      expect(tables.map((t) => t.name).sort()).toEqual([
        'api_keys',
        'oauth_clients',
        'oauth_codes',
        'oauth_grants',
        'oauth_pending',
        'oauth_refresh_tokens',
        'oauth_signing_keys',
        'rampart_migration',
        'rampart_migration_lock',
        'rampart_users',
      ]);
      const applied = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
      expect(applied.rows.map((r) => r.name)).toEqual([
        '0001_users_and_api_keys',
        '0002_oauth',
        '0003_oauth_pending',
      ]);
      await db.destroy();
    }
  });

  it('gives api_keys a unique hash and a cascading user foreign key', async () => {
    const db = openSqlite(join(dir, 'c.db'));
    await migrateToLatest(db);
    const key = {
      id: 'key_a',
      name: 'n',
      user_id: 'u',
      hash: 'h',
      display_prefix: 'rmp_',
      scopes: 's',
      created_at: 1,
    };
    await expect(db.insertInto('api_keys').values(key).execute()).rejects.toThrow(/FOREIGN KEY/);
    await db.insertInto('rampart_users').values({ id: 'u', roles: '[]', created_at: 1 }).execute();
    await db.insertInto('api_keys').values(key).execute();
    await expect(
      db
        .insertInto('api_keys')
        .values({ ...key, id: 'key_b' })
        .execute(),
    ).rejects.toThrow(/UNIQUE/);
    await db.deleteFrom('rampart_users').where('id', '=', 'u').execute();
    expect(await db.selectFrom('api_keys').selectAll().execute()).toEqual([]);
    await db.destroy();
  });

  it('lets several connections migrate one file at once (the losers retry)', async () => {
    // Without the retry, 3 of these 4 fail on a duplicate row in the migration table.
    const path = join(dir, 'race.db');
    const dbs = Array.from({ length: 4 }, () => openSqlite(path));
    await Promise.all(dbs.map((db) => migrateToLatest(db)));
    expect((await dbs[3]!.introspection.getTables()).length).toBe(10);
    for (const db of dbs) await db.destroy();
  });
});

describe('openKeyStore', () => {
  it('opens a migrated store that persists across opens', async () => {
    const path = join(dir, 'k.db');
    const first = await openKeyStore(path);
    await first.keys.createUser('alice', ['admin']);
    await first.close();
    const second = await openKeyStore(path);
    expect(await second.keys.listUsers()).toEqual([
      expect.objectContaining({ id: 'alice', roles: ['admin'] }),
    ]);
    await second.close();
  });
});
