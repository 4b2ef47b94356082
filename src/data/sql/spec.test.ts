import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { createOwnedTables } from './owned-tables.js';
import { compileTables } from './spec.js';

describe('compileTables', () => {
  it('builds frozen, null-prototype allow-lists', () => {
    const { users } = compileTables({
      users: { ownerColumn: 'owner', columns: ['id', 'name'], hiddenColumns: ['notes'] },
    });
    expect(users).toEqual({
      name: 'users',
      ownerColumn: 'owner',
      columns: ['id', 'name'],
      primaryKey: 'id',
      filterable: Object.assign(Object.create(null), { id: true, name: true }),
    });
    expect(Object.getPrototypeOf(users?.filterable)).toBe(null);
    expect(Object.isFrozen(users)).toBe(true);
    expect(Object.hasOwn(users?.filterable ?? {}, 'notes')).toBe(false);
    expect(Object.hasOwn(users?.filterable ?? {}, 'toString')).toBe(false);
  });
});

describe('configuration', () => {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  afterAll(() => db.destroy());
  const make =
    (tables: Record<string, unknown>, limits: Record<string, unknown> = {}) =>
    () =>
      createOwnedTables({ db, tables: tables as never, ...limits });
  const users = { ownerColumn: 'owner', columns: ['id', 'name'] };

  it.each([
    ['tables', {}, {}],
    ['tables.users; drop', { 'users; drop': users }, {}],
    ['tables.users.columns', { users: { ...users, columns: [] } }, {}],
    ['tables.users.columns[1]', { users: { ...users, columns: ['id', 'na me'] } }, {}],
    ['tables.users.columns[1]', { users: { ...users, columns: ['id', 'id'] } }, {}],
    ['tables.users.columns[1]', { users: { ...users, columns: ['id', 'owner'] } }, {}],
    ['tables.users.hiddenColumns[0]', { users: { ...users, hiddenColumns: ['name'] } }, {}],
    ['tables.users.primaryKey', { users: { ...users, primaryKey: 'x"y' } }, {}],
    ['tables.users.primaryKey', { users: { ...users, primaryKey: 'secret', hiddenColumns: ['secret'] } }, {}],
    ['tables.users.ownerColumn', { users: { ...users, ownerColumn: 'owner--' } }, {}],
    ['maxLimit', { users }, { maxLimit: 0 }],
    ['defaultLimit', { users }, { maxLimit: 10, defaultLimit: 11 }],
  ])('throws ConfigError at %s', (path, tables, limits) => {
    const error = (() => {
      try {
        make(tables, limits)();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  });
});
