import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RampartError } from '../../core/errors.js';
import type { Filter } from './filters.js';
import { createOwnedTables, type OwnedTables } from './owned-tables.js';

interface Item {
  id?: number;
  owner: string;
  label: string;
  qty: number;
  note: string | null;
  secret: string;
}
interface Db {
  items: Item;
}

const COLUMNS = ['id', 'label', 'qty', 'note'] as const;
// No upper-case letters: SQLite's LIKE folds ASCII case, so a lower-case-only alphabet lets the
// model below use plain `includes`.
const CHARS = ['a', 'b', '%', '_', '\\', "'", '"', ' ', '-', ';', 'é', '’'];
const text = (maxLength: number) => fc.string({ unit: fc.constantFrom(...CHARS), maxLength });

const rowArb: fc.Arbitrary<Item> = fc.record({
  owner: fc.constantFrom('alice', 'bob', 'carol'),
  label: text(6),
  qty: fc.integer({ min: -3, max: 12 }),
  note: fc.option(text(4), { nil: null }),
  secret: fc.constant('SECRET'),
});

let db: Kysely<Db>;
let tables: OwnedTables;
beforeAll(async () => {
  db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  await sql`create table items (id integer primary key, owner text not null, label text not null,
    qty integer not null, note text, secret text not null)`.execute(db);
  tables = createOwnedTables({
    db,
    tables: { items: { ownerColumn: 'owner', columns: COLUMNS, hiddenColumns: ['secret'] } },
  });
});
afterAll(() => db.destroy());

async function load(rows: readonly Item[]): Promise<Item[]> {
  await db.deleteFrom('items').execute();
  if (rows.length > 0) await db.insertInto('items').values(rows).execute();
  return db.selectFrom('items').selectAll().orderBy('id').execute();
}

describe('owner isolation (property)', () => {
  // Anything a client could send: any column (owner and hidden ones too), any operator, any JSON value.
  const scalar = fc.oneof(
    text(4),
    fc.integer({ min: -5, max: 20 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const valueArb = fc.oneof(
    scalar,
    fc.constantFrom('alice', 'bob', `' OR 1=1 --`, '%', '_'),
    fc.array(fc.oneof(text(4), fc.integer({ min: -5, max: 20 }), fc.constant('bob')), { maxLength: 4 }),
  );
  const filterArb = fc.record({
    column: fc.constantFrom(...COLUMNS, 'owner', 'secret', '__proto__'),
    operator: fc.constantFrom('eq', 'ne', 'lt', 'gt', 'like', 'in', 'or'),
    value: valueArb,
  });

  it('alice never sees another owner row or a hidden column, whatever the filters', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 12 }),
        fc.array(filterArb, { maxLength: 4 }),
        async (rows, filters) => {
          const stored = await load(rows);
          const mine = new Set(stored.filter((r) => r.owner === 'alice').map((r) => r.id));
          let result: Record<string, unknown>[];
          try {
            result = await tables.query('alice', { table: 'items', filters: filters as Filter[] });
          } catch (error) {
            expect(error).toBeInstanceOf(RampartError);
            expect((error as RampartError).code).toBe('ERR_TOOL_INVALID_ARGUMENT');
            return;
          }
          answered++;
          for (const row of result) {
            expect(mine.has(row.id as number)).toBe(true);
            expect(Object.keys(row)).toEqual([...COLUMNS]);
          }
        },
      ),
      { numRuns: 300 },
    );
    // The property must have exercised real queries, not only refusals.
    expect(answered).toBeGreaterThan(50);
  });

  // A model of the SQL semantics for well-typed filters: the result must be exactly alice's rows
  // that satisfy every filter, so a leak, a lost row or a wrong operator all fail.
  type Model = { filter: Filter; holds: (row: Item) => boolean };
  const intArb = fc.integer({ min: -3, max: 12 });
  const model = (filter: Filter, holds: (row: Item) => boolean): Model => ({ filter, holds });
  const modelArb: fc.Arbitrary<Model> = fc.oneof(
    intArb.map((v) => model({ column: 'qty', operator: 'eq', value: v }, (r: Item) => r.qty === v)),
    intArb.map((v) => model({ column: 'qty', operator: 'ne', value: v }, (r: Item) => r.qty !== v)),
    intArb.map((v) => model({ column: 'qty', operator: 'lt', value: v }, (r: Item) => r.qty < v)),
    intArb.map((v) => model({ column: 'qty', operator: 'gt', value: v }, (r: Item) => r.qty > v)),
    fc
      .array(intArb, { maxLength: 5 })
      .map((v) => model({ column: 'qty', operator: 'in', value: v }, (r: Item) => v.includes(r.qty))),
    text(3).map((v) => model({ column: 'label', operator: 'eq', value: v }, (r: Item) => r.label === v)),
    text(3).map((v) =>
      model({ column: 'label', operator: 'gt', value: v }, (r: Item) => utf8(r.label) > utf8(v)),
    ),
    text(3).map((v) =>
      model({ column: 'label', operator: 'lt', value: v }, (r: Item) => utf8(r.label) < utf8(v)),
    ),
    fc
      .array(text(2), { maxLength: 3 })
      .map((v) => model({ column: 'label', operator: 'in', value: v }, (r: Item) => v.includes(r.label))),
    text(3).map((v) =>
      model({ column: 'label', operator: 'like', value: v }, (r: Item) => r.label.includes(v)),
    ),
    text(2).map((v) =>
      model({ column: 'note', operator: 'ne', value: v }, (r: Item) => r.note !== null && r.note !== v),
    ),
    fc.constant(model({ column: 'note', operator: 'eq', value: null }, (r: Item) => r.note === null)),
    fc.constant(model({ column: 'note', operator: 'ne', value: null }, (r: Item) => r.note !== null)),
  );

  it('returns exactly the owner rows matching every filter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(rowArb, { maxLength: 12 }),
        fc.array(modelArb, { maxLength: 3 }),
        async (rows, models) => {
          const stored = await load(rows);
          const expected = stored
            .filter((r) => r.owner === 'alice' && models.every((m) => m.holds(r)))
            .map((r) => r.id);
          const result = await tables.query('alice', {
            table: 'items',
            filters: models.map((m) => m.filter),
          });
          expect(result.map((r) => r.id)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// SQLite compares TEXT with memcmp over UTF-8 bytes; JS compares UTF-16 units. Compare as SQLite does.
function utf8(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

describe('LIKE escaping (property)', () => {
  it('a needle full of %, _ and \\ matches only labels that contain it literally', async () => {
    const dense = (maxLength: number) =>
      fc.string({ unit: fc.constantFrom('%', '_', '\\', 'a', '\\%', '\\_', '%%', '😀'), maxLength });
    await fc.assert(
      fc.asyncProperty(
        fc.array(dense(6), { minLength: 1, maxLength: 10 }),
        dense(4),
        async (labels, needle) => {
          const stored = await load(
            labels.map((label) => ({ owner: 'alice', label, qty: 0, note: null, secret: 's' })),
          );
          const result = await tables.query('alice', {
            table: 'items',
            filters: [{ column: 'label', operator: 'like', value: needle }],
          });
          expect(result.map((r) => r.id)).toEqual(
            stored.filter((r) => r.label.includes(needle)).map((r) => r.id),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
