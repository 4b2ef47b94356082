// Shared by the SQLite and PostgreSQL suites of src/data/sql.
import { expect } from 'vitest';
import type { OwnedTables } from '../../src/data/sql/owned-tables.js';

/**
 * Checks that `payload`, used as a value of `eq`, `like` and `in` on `users.name`, matches only
 * rows that hold (or, for `like`, contain) exactly that text. `fold` is the dialect's LIKE case rule.
 */
export async function expectLiteralMatches(
  tables: OwnedTables,
  payload: string,
  fold: (s: string) => string,
): Promise<void> {
  const names = (await tables.list('alice', 'users')).map((r) => r.name as string);
  const eq = await tables.query('alice', {
    table: 'users',
    filters: [{ column: 'name', operator: 'eq', value: payload }],
  });
  expect(eq.map((r) => r.name)).toEqual(names.filter((n) => n === payload));
  const like = await tables.query('alice', {
    table: 'users',
    filters: [{ column: 'name', operator: 'like', value: payload }],
  });
  expect(like.map((r) => r.name)).toEqual(names.filter((n) => fold(n).includes(fold(payload))));
  const inList = await tables.query('alice', {
    table: 'users',
    filters: [{ column: 'name', operator: 'in', value: [payload, 'nobody'] }],
  });
  expect(inList).toEqual(eq);
}
