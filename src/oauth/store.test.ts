import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../stores/migrations.js';
import type { RampartDb } from '../stores/schema.js';
import { openSqlite } from '../stores/sqlite.js';
import { createSqlOAuthStore, type OAuthStore } from './store.js';

// One conformance suite for the authorization server's store, on the embedded SQLite and on the
// machine's real PostgreSQL (127.0.0.1:5432, database `test`, a schema of its own, dropped after).
const schema = `rampart_oauth_${randomBytes(6).toString('hex')}`;
let admin: pg.Client;
let dir: string;
const backends: Record<string, Kysely<RampartDb>> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-oauth-store-'));
  backends.sqlite = openSqlite(join(dir, 'oauth.db'));
  admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  backends.postgres = new Kysely<RampartDb>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({
        host: '127.0.0.1',
        port: 5432,
        user: 'postgres',
        database: 'test',
        max: 8,
        options: `-c search_path=${schema}`,
      }),
    }),
  });
  for (const db of Object.values(backends)) {
    await migrateToLatest(db);
    await db
      .insertInto('rampart_users')
      .values({ id: 'alice', roles: '[]', created_at: 0, password_hash: null })
      .execute();
  }
}, 30_000);

afterAll(async () => {
  for (const db of Object.values(backends)) await db.destroy();
  await admin?.query(`drop schema if exists ${schema} cascade`);
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['sqlite', 'postgres'])('the OAuth store on %s', (backend) => {
  let store: OAuthStore;
  beforeAll(() => {
    store = createSqlOAuthStore(backends[backend] as Kysely<RampartDb>);
  });

  const newGrant = () =>
    store.createGrant({ userId: 'alice', clientId: 'c1', scope: 'mcp:read', resource: 'https://r/mcp' });
  const binding = (grantId: string) => ({
    grantId,
    clientId: 'c1',
    redirectUri: 'http://127.0.0.1/cb',
    codeChallenge: 'x'.repeat(43),
    expiresAt: Date.now() + 60_000,
  });

  it('hands a code out once, to exactly one of many concurrent consumers', async () => {
    const grant = await newGrant();
    const code = randomBytes(32).toString('base64url');
    await store.putCode(code, binding(grant.id));
    const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeCode(code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'replayed')).toHaveLength(7);
    const again = await store.consumeCode(code);
    expect(again).toEqual({ ok: false, reason: 'replayed', grantId: grant.id });
    expect(await store.consumeCode('never-issued')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('rotates a refresh token once, and names the grant on reuse', async () => {
    const grant = await newGrant();
    await store.putRefreshToken('rt-1', grant.id, Date.now() + 60_000);
    const results = await Promise.all(Array.from({ length: 8 }, () => store.consumeRefreshToken('rt-1')));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await store.consumeRefreshToken('rt-1')).toEqual({
      ok: false,
      reason: 'replayed',
      grantId: grant.id,
    });
  });

  it('revoking a grant kills its unused codes and refresh tokens', async () => {
    const grant = await newGrant();
    await store.putCode('code-r', binding(grant.id));
    await store.putRefreshToken('rt-r', grant.id, Date.now() + 60_000);
    await store.revokeGrant(grant.id);
    expect((await store.getGrant(grant.id))?.revokedAt).not.toBeNull();
    expect((await store.consumeCode('code-r')).ok).toBe(false);
    expect((await store.consumeRefreshToken('rt-r')).ok).toBe(false);
  });

  it('keeps pending state until it expires, and hands it out once', async () => {
    await store.putPending('req:a', { n: 1 }, Date.now() + 60_000);
    await store.putPending('req:a', { n: 2 }, Date.now() + 60_000);
    const takes = await Promise.all(Array.from({ length: 8 }, () => store.takePending('req:a')));
    expect(takes.filter((t) => t !== undefined)).toEqual([{ n: 2 }]);
    await store.putPending('req:old', { n: 3 }, Date.now() - 1);
    expect(await store.takePending('req:old')).toBeUndefined();
  });

  it('stores clients and stores codes by hash only', async () => {
    await store.putClient({
      clientId: 'rc_x',
      kind: 'dynamic',
      redirectUris: ['https://a.example/cb'],
      tokenEndpointAuthMethod: 'none',
      grantTypes: ['authorization_code'],
      createdAt: 1,
    });
    expect((await store.getClient('rc_x'))?.redirectUris).toEqual(['https://a.example/cb']);
    expect(await store.getClient('rc_missing')).toBeUndefined();
    const grant = await newGrant();
    await store.putCode('plain-code-value', binding(grant.id));
    const rows = await (backends[backend] as Kysely<RampartDb>)
      .selectFrom('oauth_codes')
      .select('code_hash')
      .execute();
    expect(rows.some((r) => r.code_hash === 'plain-code-value')).toBe(false);
  });
});
