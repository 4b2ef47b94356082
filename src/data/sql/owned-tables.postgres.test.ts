import { randomBytes } from 'node:crypto';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLiteralMatches } from '../../../test/helpers/sql-payloads.js';
import { RampartError } from '../../core/errors.js';
import { createOwnedTables, type OwnedTables } from './owned-tables.js';

// The owned-tables layer against the real PostgreSQL of this machine (127.0.0.1:5432, database
// `test`; .ci/run starts it when it is down), in a schema of its own that is dropped afterwards.
interface Db {
  users: { id: Generated<number>; owner: string; name: string; email: string | null; internal_notes: string };
  orders: {
    id: Generated<number>;
    owner: string;
    product: string;
    quantity: number;
    internal_margin: number;
  };
}

const schema = `rampart_t_${randomBytes(6).toString('hex')}`;
const TRICKY = `O'Brien "x" 100%_off \\ ‘q’`;
let admin: pg.Client;
let db: Kysely<Db>;
let tables: OwnedTables;

beforeAll(async () => {
  admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  db = new Kysely<Db>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({
        host: '127.0.0.1',
        port: 5432,
        user: 'postgres',
        database: 'test',
        max: 4,
        options: `-c search_path=${schema}`,
      }),
    }),
  });
  await sql`create table users (id serial primary key, owner text not null, name text not null,
    email text, internal_notes text not null)`.execute(db);
  await sql`create table orders (id serial primary key, owner text not null, product text not null,
    quantity integer not null, internal_margin real not null)`.execute(db);
  await db
    .insertInto('users')
    .values([
      { owner: 'alice', name: 'Alice', email: 'alice@example.com', internal_notes: 'SECRET-A1' },
      { owner: 'alice', name: TRICKY, email: null, internal_notes: 'SECRET-A2' },
      { owner: 'alice', name: 'snake_case', email: null, internal_notes: 'SECRET-A3' },
      { owner: 'bob', name: 'Bob', email: 'bob@example.com', internal_notes: 'SECRET-B1' },
      { owner: 'bob', name: TRICKY, email: null, internal_notes: 'SECRET-B2' },
    ])
    .execute();
  await db
    .insertInto('orders')
    .values([
      { owner: 'alice', product: 'Gadget 100%', quantity: 5, internal_margin: 0.5 },
      { owner: 'alice', product: 'snake_case tool', quantity: 12, internal_margin: 0.6 },
      { owner: 'bob', product: 'Gadget 100%', quantity: 50, internal_margin: 0.8 },
    ])
    .execute();
  tables = createOwnedTables({
    db,
    tables: {
      users: { ownerColumn: 'owner', columns: ['id', 'name', 'email'], hiddenColumns: ['internal_notes'] },
      orders: {
        ownerColumn: 'owner',
        columns: ['id', 'product', 'quantity'],
        hiddenColumns: ['internal_margin'],
      },
    },
  });
});

afterAll(async () => {
  await db?.destroy();
  await admin?.query(`drop schema if exists ${schema} cascade`);
  await admin?.end();
});

async function snapshot(): Promise<unknown> {
  const users = await db.selectFrom('users').selectAll().orderBy('id').execute();
  const orders = await db.selectFrom('orders').selectAll().orderBy('id').execute();
  return { users, orders };
}

async function refused(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RampartError);
  expect((error as RampartError).code).toBe('ERR_TOOL_INVALID_ARGUMENT');
}

describe('createOwnedTables on PostgreSQL', () => {
  it('lists only the owner rows and never hidden or owner columns', async () => {
    const rows = await tables.list('alice', 'users');
    expect(rows).toEqual([
      { id: 1, name: 'Alice', email: 'alice@example.com' },
      { id: 2, name: TRICKY, email: null },
      { id: 3, name: 'snake_case', email: null },
    ]);
    expect(JSON.stringify(await tables.list('alice', 'orders'))).not.toMatch(/internal|margin|"alice"/);
  });

  const payloads = [
    `' OR 1=1 --`,
    `"; DROP TABLE users; --`,
    `'; DELETE FROM orders; --`,
    `alice' --`,
    '%',
    '_',
    '\\',
    '\\%',
    `'; SELECT pg_sleep(5); --`,
    `$$; DROP SCHEMA ${schema} CASCADE; $$`,
    TRICKY,
    "O'Brien",
  ];
  it.each(payloads)('payload %j matches literally and changes nothing', async (payload) => {
    const before = await snapshot();
    // PostgreSQL's LIKE is case-sensitive.
    await expectLiteralMatches(tables, payload, (t) => t);
    expect(await snapshot()).toEqual(before);
  });

  it('matches % and _ literally', async () => {
    const like = (value: string) =>
      tables.query('alice', { table: 'orders', filters: [{ column: 'product', operator: 'like', value }] });
    expect((await like('%')).map((r) => r.product)).toEqual(['Gadget 100%']);
    expect((await like('_')).map((r) => r.product)).toEqual(['snake_case tool']);
    expect(await like('t_o')).toEqual([]);
  });

  it('answers values that do not fit their column as invalid arguments, not failures', async () => {
    const before = await snapshot();
    await refused(tables.deleteOwned('alice', 'users', `1; DROP TABLE users`));
    await refused(
      tables.query('alice', {
        table: 'orders',
        filters: [{ column: 'quantity', operator: 'eq', value: 'many' }],
      }),
    );
    await refused(
      tables.query('alice', {
        table: 'users',
        filters: [{ column: 'name', operator: 'eq', value: 'x\u0000y' }],
      }),
    );
    expect(await snapshot()).toEqual(before);
  });

  it('deletes only the owner’s row', async () => {
    const bobs = await db.selectFrom('users').select('id').where('owner', '=', 'bob').execute();
    expect(await tables.deleteOwned('alice', 'users', bobs[0]?.id as number)).toBe(false);
    expect(await tables.deleteOwned('alice', 'users', 3)).toBe(true);
    expect((await tables.list('alice', 'users')).map((r) => r.id)).toEqual([1, 2]);
    expect(await db.selectFrom('users').select('id').where('owner', '=', 'bob').execute()).toEqual(bobs);
  });
});
