import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { deleteOwnedRow, selectOwned } from './build.js';
import { checkFilter, escapeLike, type Filter, type OpaqueDb } from './filters.js';
import { compileTables } from './spec.js';

// Compile-only databases: kysely renders the SQL without a connection.
const sqlite = new Kysely<OpaqueDb>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});
const postgres = new Kysely<OpaqueDb>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

const { orders } = compileTables({
  orders: { ownerColumn: 'owner', columns: ['id', 'product', 'gift'], hiddenColumns: ['margin'] },
});
const table = orders!;
const PAYLOAD = `'; DROP TABLE orders; --`;
const filters: Filter[] = [
  { column: 'product', operator: 'eq', value: PAYLOAD },
  { column: 'product', operator: 'like', value: '50%_\\' },
  { column: 'id', operator: 'in', value: [1, PAYLOAD] },
  { column: 'product', operator: 'ne', value: null },
  { column: 'gift', operator: 'eq', value: true },
];
for (const f of filters) checkFilter(table, f);

describe('selectOwned', () => {
  it('renders names from the allow-list and every value as a `?` placeholder (SQLite)', () => {
    const { sql, parameters } = selectOwned(sqlite, table, `alice' OR '1'='1`, filters, 50).compile();
    expect(sql).toBe(
      'select "id", "product", "gift" from "orders" where ("owner" = ? and "product" = ? and "product" like ? escape ? ' +
        'and "id" in (?, ?) and "product" is not null and "gift" = true) order by "id" limit ?',
    );
    expect(parameters).toEqual([`alice' OR '1'='1`, PAYLOAD, '%50\\%\\_\\\\%', '\\', 1, PAYLOAD, 50]);
    for (const value of [PAYLOAD, 'alice', '50%', 'DROP']) expect(sql).not.toContain(value);
    expect(sql).not.toContain('*');
    expect(sql).not.toContain('margin');
  });

  it('renders numbered placeholders and the same ESCAPE clause on PostgreSQL', () => {
    const { sql, parameters } = selectOwned(postgres, table, 'alice', filters, 50).compile();
    expect(sql).toBe(
      'select "id", "product", "gift" from "orders" where ("owner" = $1 and "product" = $2 and "product" like $3 escape $4 ' +
        'and "id" in ($5, $6) and "product" is not null and "gift" = true) order by "id" limit $7',
    );
    expect(parameters).toHaveLength(7);
    expect(sql).not.toContain(PAYLOAD);
  });
});

describe('deleteOwnedRow', () => {
  it('binds the id and the owner', () => {
    const { sql, parameters } = deleteOwnedRow(sqlite, table, 'bob', PAYLOAD).compile();
    expect(sql).toBe('delete from "orders" where ("id" = ? and "owner" = ?)');
    expect(parameters).toEqual([PAYLOAD, 'bob']);
  });
});

describe('escapeLike', () => {
  it.each([
    ['plain', 'plain'],
    ['100%', '100\\%'],
    ['snake_case', 'snake\\_case'],
    ['a\\b', 'a\\\\b'],
    ['\\%', '\\\\\\%'],
    ['%_\\', '\\%\\_\\\\'],
  ])('escapes %j as %j', (input, expected) => {
    expect(escapeLike(input)).toBe(expected);
  });
});
