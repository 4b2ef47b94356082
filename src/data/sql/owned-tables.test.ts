import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { expectLiteralMatches } from '../../../test/helpers/sql-payloads.js';
import { RampartError } from '../../core/errors.js';
import { createOwnedTables, type OwnedTables } from './owned-tables.js';
import type { QueryInput } from './schema.js';

interface Db {
  users: { id: Generated<number>; owner: string; name: string; email: string | null; internal_notes: string };
  orders: {
    id: Generated<number>;
    owner: string;
    product: string;
    quantity: number;
    status: string;
    gift: number;
    internal_margin: number;
  };
}

const USERS = ['id', 'name', 'email'] as const;
const ORDERS = ['id', 'product', 'quantity', 'status', 'gift'] as const;
// A literal name full of SQL and LIKE metacharacters, to show they match as text.
const TRICKY = `O'Brien "x" 100%_off \\ ‘q’`;

async function openDb(path: string): Promise<Kysely<Db>> {
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  await sql`create table users (id integer primary key, owner text not null, name text not null,
    email text, internal_notes text not null)`.execute(db);
  await sql`create table orders (id integer primary key, owner text not null, product text not null,
    quantity integer not null, status text not null, gift integer not null, internal_margin real not null)`.execute(
    db,
  );
  const users = [
    { owner: 'alice', name: 'Alice', email: 'alice@example.com', internal_notes: 'SECRET-A1' },
    { owner: 'alice', name: TRICKY, email: null, internal_notes: 'SECRET-A2' },
    { owner: 'alice', name: 'snake_case', email: 'a2@example.com', internal_notes: 'SECRET-A3' },
    { owner: 'bob', name: 'Bob', email: 'bob@example.com', internal_notes: 'SECRET-B1' },
    { owner: 'bob', name: TRICKY, email: null, internal_notes: 'SECRET-B2' },
  ];
  await db.insertInto('users').values(users).execute();
  const orders = [
    { owner: 'alice', product: 'Widget', quantity: 2, status: 'shipped', gift: 1, internal_margin: 0.4 },
    { owner: 'alice', product: 'Gadget 100%', quantity: 5, status: 'pending', gift: 0, internal_margin: 0.5 },
    {
      owner: 'alice',
      product: 'snake_case tool',
      quantity: 12,
      status: 'cancelled',
      gift: 0,
      internal_margin: 0.6,
    },
    { owner: 'bob', product: 'Widget', quantity: 3, status: 'shipped', gift: 1, internal_margin: 0.7 },
    { owner: 'bob', product: 'Gadget 100%', quantity: 50, status: 'pending', gift: 0, internal_margin: 0.8 },
  ];
  await db.insertInto('orders').values(orders).execute();
  return db;
}

function tablesFor(db: Kysely<Db>, limits: { maxLimit?: number; defaultLimit?: number } = {}): OwnedTables {
  return createOwnedTables({
    db,
    ...limits,
    tables: {
      users: { ownerColumn: 'owner', columns: USERS, hiddenColumns: ['internal_notes'] },
      orders: { ownerColumn: 'owner', columns: ORDERS, hiddenColumns: ['internal_margin'] },
    },
  });
}

async function snapshot(db: Kysely<Db>): Promise<unknown> {
  const schema = await sql`select type, name, sql from sqlite_master order by name`.execute(db);
  const users = await db.selectFrom('users').selectAll().orderBy('id').execute();
  const orders = await db.selectFrom('orders').selectAll().orderBy('id').execute();
  return { schema: schema.rows, users, orders };
}

async function refusal(promise: Promise<unknown>): Promise<RampartError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RampartError);
  const r = error as RampartError;
  expect(r.code).toBe('ERR_TOOL_INVALID_ARGUMENT');
  expect(r.message).toBe('Invalid tool arguments');
  expect(r.info).toMatchObject({ status: 200, rpc: -32602 });
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'rampart-data-sql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

describe.each(['file', 'memory'] as const)('createOwnedTables on SQLite (%s)', (kind) => {
  let db: Kysely<Db>;
  let tables: OwnedTables;
  beforeEach(async () => {
    db = await openDb(kind === 'memory' ? ':memory:' : join(dir, `t${counter++}.db`));
    tables = tablesFor(db);
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('lists only the owner rows, listed columns only, ordered by primary key', async () => {
    const rows = await tables.list('alice', 'users');
    expect(rows).toEqual([
      { id: 1, name: 'Alice', email: 'alice@example.com' },
      { id: 2, name: TRICKY, email: null },
      { id: 3, name: 'snake_case', email: 'a2@example.com' },
    ]);
    expect(await tables.list('bob', 'users', 1)).toEqual([{ id: 4, name: 'Bob', email: 'bob@example.com' }]);
    expect(await tables.list('carol', 'users')).toEqual([]);
    expect(tables.tableNames).toEqual(['users', 'orders']);
  });

  it('never returns hidden or owner columns, through list or any filter', async () => {
    const all = [
      ...(await tables.list('alice', 'users')),
      ...(await tables.list('alice', 'orders')),
      ...(await tables.query('alice', {
        table: 'orders',
        filters: [{ column: 'gift', operator: 'eq', value: 0 }],
      })),
    ];
    for (const row of all) {
      expect(Object.keys(row)).not.toContain('internal_notes');
      expect(Object.keys(row)).not.toContain('internal_margin');
      expect(Object.keys(row)).not.toContain('owner');
    }
    expect(JSON.stringify(all)).not.toMatch(/SECRET|"alice"/);
  });

  // Each payload is a value: it must match only rows holding exactly that text (eq) or containing
  // it (like), and never change the database.
  const payloads = [
    `' OR 1=1 --`,
    `" OR ""="`,
    `"; DROP TABLE users; --`,
    `'; DELETE FROM orders; --`,
    `alice' --`,
    '%',
    '_',
    '\\',
    '%%',
    '\\%',
    '‘ OR ‘1’=‘1',
    `1; ATTACH DATABASE '/tmp/x' AS x; --`,
    'x\u0000y',
    TRICKY,
    "O'Brien",
    '100%_off',
  ];
  it.each(payloads)('payload %j matches literally and leaves the database intact', async (payload) => {
    const before = await snapshot(db);
    // SQLite's LIKE folds ASCII case only.
    await expectLiteralMatches(tables, payload, (t) => t.replace(/[A-Z]/g, (c) => c.toLowerCase()));
    await tables.deleteOwned('alice', 'users', payload);
    expect(await snapshot(db)).toEqual(before);
  });

  it('matches % and _ literally, not as wildcards', async () => {
    const like = (value: string) =>
      tables.query('alice', { table: 'orders', filters: [{ column: 'product', operator: 'like', value }] });
    expect((await like('%')).map((r) => r.product)).toEqual(['Gadget 100%']);
    expect((await like('_')).map((r) => r.product)).toEqual(['snake_case tool']);
    expect((await like('e_c')).map((r) => r.product)).toEqual(['snake_case tool']);
    expect(await like('t_o')).toEqual([]);
    expect(await like('0%%')).toEqual([]);
  });

  const badTables = [
    'users; DROP TABLE users',
    'users--',
    '"users"',
    'sqlite_master',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '',
    'USERS',
  ];
  it.each(badTables)('refuses table %j everywhere, without echoing it', async (table) => {
    const before = await snapshot(db);
    for (const p of [
      tables.list('alice', table),
      tables.query('alice', { table }),
      tables.deleteOwned('alice', table, 1),
      tables.purge(table),
    ]) {
      const error = await refusal(p);
      if (table) expect(error.message).not.toContain(table);
    }
    expect(await snapshot(db)).toEqual(before);
  });

  const badColumns = [
    'owner',
    'internal_notes',
    'internal_margin',
    'name; DROP TABLE users',
    '*',
    '1=1',
    '__proto__',
    'constructor',
    'product',
    'users.name',
  ];
  it.each(badColumns)('refuses filter column %j on users', async (column) => {
    await refusal(
      tables.query('alice', { table: 'users', filters: [{ column, operator: 'eq', value: 'x' }] }),
    );
  });

  it('offers a filter schema that names no hidden or owner column', () => {
    const text = JSON.stringify(z.toJSONSchema(tables.filterSchema(), { io: 'input' }));
    for (const hidden of ['internal_notes', 'internal_margin', '"owner"']) expect(text).not.toContain(hidden);
    expect(text).toContain('"enum":["id","name","email","product","quantity","status","gift"]');
    expect(text).toContain('"enum":["users","orders"]');
  });

  it('checks columns per table: a column of orders is refused on users', async () => {
    // `product` is in the schema's column enum (it exists on orders) but not filterable on users.
    const input = { table: 'users', filters: [{ column: 'product', operator: 'eq', value: 'Widget' }] };
    expect(tables.filterSchema().safeParse(input).success).toBe(true);
    await refusal(tables.query('alice', input as QueryInput));
  });

  it('implements each operator with bound values', async () => {
    const q = async (filters: QueryInput['filters'], table = 'orders') =>
      (await tables.query('alice', { table, filters })).map((r) => r.id);
    expect(await q([{ column: 'status', operator: 'eq', value: 'pending' }])).toEqual([2]);
    expect(await q([{ column: 'status', operator: 'ne', value: 'pending' }])).toEqual([1, 3]);
    expect(await q([{ column: 'quantity', operator: 'lt', value: 5 }])).toEqual([1]);
    expect(await q([{ column: 'quantity', operator: 'gt', value: 4 }])).toEqual([2, 3]);
    expect(await q([{ column: 'status', operator: 'gt', value: 'p' }])).toEqual([1, 2]);
    expect(await q([{ column: 'quantity', operator: 'in', value: [2, 12, 50] }])).toEqual([1, 3]);
    expect(await q([{ column: 'gift', operator: 'eq', value: true }])).toEqual([1]);
    expect(await q([{ column: 'gift', operator: 'ne', value: true }])).toEqual([2, 3]);
    expect(await q([{ column: 'email', operator: 'eq', value: null }], 'users')).toEqual([2]);
    expect(await q([{ column: 'email', operator: 'ne', value: null }], 'users')).toEqual([1, 3]);
    expect(
      await q([
        { column: 'quantity', operator: 'gt', value: 1 },
        { column: 'product', operator: 'like', value: 'GET' },
      ]),
    ).toEqual([1, 2]);
  });

  it('treats `in` with an empty list as matching nothing, without an SQL error', async () => {
    expect(
      await tables.query('alice', {
        table: 'orders',
        filters: [{ column: 'id', operator: 'in', value: [] }],
      }),
    ).toEqual([]);
    // The other filters are still checked first.
    await refusal(
      tables.query('alice', {
        table: 'orders',
        filters: [
          { column: 'id', operator: 'in', value: [] },
          { column: 'internal_margin', operator: 'eq', value: 1 },
        ],
      }),
    );
  });

  const badValues: unknown[] = [
    { column: 'quantity', operator: 'lt', value: true },
    { column: 'quantity', operator: 'gt', value: null },
    { column: 'quantity', operator: 'eq', value: Number.NaN },
    { column: 'quantity', operator: 'eq', value: Number.POSITIVE_INFINITY },
    { column: 'product', operator: 'like', value: 5 },
    { column: 'product', operator: 'like', value: null },
    { column: 'quantity', operator: 'in', value: 5 },
    { column: 'quantity', operator: 'in', value: [[1]] },
    { column: 'quantity', operator: 'in', value: [null] },
    { column: 'quantity', operator: 'in', value: Array.from({ length: 101 }, (_, i) => i) },
    { column: 'product', operator: 'eq', value: 'x'.repeat(1001) },
    { column: 'product', operator: 'eq', value: { $ne: 1 } },
    { column: 'product', operator: 'eq', value: ['a'] },
    { column: 'product', operator: 'regexp', value: 'a' },
    { column: 'product', operator: 'eq', value: 'a', extra: 1 },
    { column: 'product', operator: 'eq' },
  ];
  it.each(badValues)('refuses bad filter #%#', async (filter) => {
    await refusal(tables.query('alice', { table: 'orders', filters: [filter] } as unknown as QueryInput));
  });

  it('refuses malformed query input', async () => {
    const bad: unknown[] = [
      null,
      'users',
      { table: 'orders', limit: 0 },
      { table: 'orders', limit: 1001 },
      { table: 'orders', limit: 1.5 },
      { table: 'orders', owner: 'bob' },
      {
        table: 'orders',
        filters: Array.from({ length: 21 }, () => ({ column: 'id', operator: 'gt', value: 0 })),
      },
      JSON.parse('{"table":"orders","__proto__":{"limit":1}}'),
    ];
    for (const input of bad) await refusal(tables.query('alice', input as QueryInput));
  });

  it('applies default and maximum limits', async () => {
    const small = tablesFor(db, { maxLimit: 2, defaultLimit: 1 });
    expect(await small.list('alice', 'orders')).toHaveLength(1);
    expect(await small.query('alice', { table: 'orders' })).toHaveLength(1);
    expect(await small.query('alice', { table: 'orders', limit: 2 })).toHaveLength(2);
    await refusal(small.list('alice', 'orders', 3));
    await refusal(small.list('alice', 'orders', 0));
    await refusal(small.query('alice', { table: 'orders', limit: 3 }));
  });

  it('deletes only the owner row; another owner row is indistinguishable from an absent one', async () => {
    expect(await tables.deleteOwned('alice', 'orders', 4)).toBe(false); // bob's
    expect(await tables.deleteOwned('alice', 'orders', 999)).toBe(false);
    expect(await tables.deleteOwned('alice', 'orders', 1)).toBe(true);
    expect(await tables.deleteOwned('alice', 'orders', 1)).toBe(false);
    expect((await tables.list('alice', 'orders')).map((r) => r.id)).toEqual([2, 3]);
    expect((await tables.list('bob', 'orders')).map((r) => r.id)).toEqual([4, 5]);
    await refusal(tables.deleteOwned('alice', 'orders', Number.NaN));
    await refusal(tables.deleteOwned('alice', 'orders', { id: 1 } as unknown as number));
  });

  it('purges one table for every owner and returns the count', async () => {
    expect(await tables.purge('orders')).toBe(5);
    expect(await tables.list('bob', 'orders')).toEqual([]);
    expect(await tables.list('bob', 'users')).toHaveLength(2);
  });

  it('refuses an empty or non-string owner as a caller bug', async () => {
    await expect(tables.list('', 'users')).rejects.toThrow(TypeError);
    await expect(tables.query(undefined as unknown as string, { table: 'users' })).rejects.toThrow(TypeError);
    await expect(tables.deleteOwned('', 'users', 1)).rejects.toThrow(TypeError);
  });
});
