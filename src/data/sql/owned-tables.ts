import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { deleteOwnedRow, type Row, selectOwned } from './build.js';
import { checkFilter, FILTER_LIMITS, invalidArgument, matchesNothing, type OpaqueDb } from './filters.js';
import { buildQuerySchema, type QueryInput } from './schema.js';
import { type CompiledTable, compileTables, type TableSpec } from './spec.js';

/** Table specs keyed by table name; with a typed `Kysely<DB>`, names and columns are checked. */
export type TableSpecs<DB> = { readonly [T in keyof DB & string]?: TableSpec<keyof DB[T] & string> };

/** Options of {@link createOwnedTables}. */
export interface OwnedTablesOptions<DB> {
  /** Any kysely instance (SQLite, PostgreSQL, ...); use `db.withSchema('app')` for a schema. */
  readonly db: Kysely<DB>;
  /** The allow-list: only these tables and their listed columns are ever named in SQL. */
  readonly tables: NoInfer<TableSpecs<DB>>;
  /** Largest row limit a caller may ask for. Default 1000. */
  readonly maxLimit?: number;
  /** Row limit when the caller gives none. Default 100. */
  readonly defaultLimit?: number;
}

/** Owner-scoped access to a fixed set of tables. Every read and delete is ANDed with `owner = ?`. */
export interface OwnedTables {
  /** The exposed table names, in the order given. */
  readonly tableNames: readonly string[];
  /** The owner's rows of `table`, ordered by primary key, at most `limit` (default `defaultLimit`). */
  list(owner: string, table: string, limit?: number): Promise<Row[]>;
  /** The owner's rows matching every filter. `input` is validated with {@link OwnedTables.filterSchema}. */
  query(owner: string, input: QueryInput): Promise<Row[]>;
  /** Deletes one of the owner's rows; false when it is absent or someone else's (indistinguishable). */
  deleteOwned(owner: string, table: string, id: string | number): Promise<boolean>;
  /** Deletes every row of `table`, for all owners; returns the count. Gate it behind an admin role. */
  purge(table: string): Promise<number>;
  /** The zod schema of {@link QueryInput} for these tables, for a tool's `input`. Built once. */
  filterSchema(): z.ZodType<QueryInput>;
}

/**
 * Data-level filtering for tools: a caller sees and deletes only the rows whose owner column equals
 * its subject. Table and column names come only from `tables` (never from input text), values are
 * always bound parameters, LIKE matches literally, and hidden columns are never selected.
 *
 * The owner column is neither listed nor filterable (a filter on it is refused like an unknown
 * column); the owner condition is ANDed with every filter, so no filter can widen the result.
 *
 * Dialect notes: `like` is case-insensitive for ASCII on SQLite and case-sensitive on PostgreSQL;
 * comparing a column with a value of another type is an error on PostgreSQL (a plain Error, so the
 * client sees an internal error, not the SQL).
 *
 * @throws ConfigError at construction for a bad spec or limit.
 * @throws RampartError `ERR_TOOL_INVALID_ARGUMENT` from the methods for an unknown table, a column
 *   that is not filterable on that table, a value of the wrong type or a limit out of range.
 * @throws TypeError from the methods when `owner` is not a non-empty string (a caller bug).
 * @example
 * const tables = createOwnedTables({
 *   db,
 *   tables: { orders: { ownerColumn: 'owner', columns: ['id', 'product', 'status'], hiddenColumns: ['margin'] } },
 * });
 * const mine = await tables.query(principal.subject, {
 *   table: 'orders',
 *   filters: [{ column: 'status', operator: 'in', value: ['pending', 'shipped'] }],
 * });
 */
export function createOwnedTables<DB>(options: OwnedTablesOptions<DB>): OwnedTables {
  const db = options.db as unknown as Kysely<OpaqueDb>;
  const maxLimit = positiveInteger(options.maxLimit ?? 1000, 'maxLimit');
  const defaultLimit = positiveInteger(options.defaultLimit ?? 100, 'defaultLimit');
  if (defaultLimit > maxLimit) throw new ConfigError('defaultLimit', 'must not exceed maxLimit');
  const tables = compileTables(options.tables as Readonly<Record<string, TableSpec | undefined>>);
  const tableNames = Object.freeze(Object.keys(tables));
  const columnNames = [...new Set(tableNames.flatMap((name) => tables[name]?.columns ?? []))];
  const schema = buildQuerySchema(tableNames, columnNames, { maxLimit, defaultLimit });

  function tableOf(name: unknown): CompiledTable {
    if (typeof name === 'string' && Object.hasOwn(tables, name)) return tables[name] as CompiledTable;
    throw invalidArgument('unknown table');
  }

  function limitOf(limit: unknown): number {
    if (limit === undefined) return defaultLimit;
    if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= maxLimit) return limit;
    throw invalidArgument('limit out of range');
  }

  return Object.freeze({
    tableNames,
    async list(owner: string, table: string, limit?: number): Promise<Row[]> {
      checkOwner(owner);
      return selectOwned(db, tableOf(table), owner, [], limitOf(limit)).execute();
    },
    async query(owner: string, input: QueryInput): Promise<Row[]> {
      checkOwner(owner);
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        // Paths and codes only: issue messages and `keys` may quote the input.
        const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code }));
        throw invalidArgument(`query input does not match the schema: ${JSON.stringify(issues)}`);
      }
      const table = tableOf(parsed.data.table);
      const filters = parsed.data.filters ?? [];
      if (filters.length > FILTER_LIMITS.maxFilters) throw invalidArgument('too many filters');
      for (const filter of filters) checkFilter(table, filter);
      // `x in ()` is a syntax error on PostgreSQL; an empty list matches nothing anywhere.
      if (filters.some(matchesNothing)) return [];
      return refuseDataErrors(selectOwned(db, table, owner, filters, limitOf(parsed.data.limit)).execute());
    },
    async deleteOwned(owner: string, table: string, id: string | number): Promise<boolean> {
      checkOwner(owner);
      const spec = tableOf(table);
      const okId =
        (typeof id === 'number' && Number.isFinite(id)) ||
        (typeof id === 'string' && id.length <= FILTER_LIMITS.maxStringLength);
      if (!okId) throw invalidArgument('id must be a string or a finite number');
      const result = await refuseDataErrors(deleteOwnedRow(db, spec, owner, id).executeTakeFirst());
      return result.numDeletedRows > 0n;
    },
    async purge(table: string): Promise<number> {
      const spec = tableOf(table);
      const result = await db.deleteFrom(spec.name).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    filterSchema: () => schema,
  });
}

function checkOwner(owner: unknown): void {
  // Fail closed: an empty owner would match rows whose owner column is ''.
  if (typeof owner !== 'string' || owner.length === 0) {
    throw new TypeError('owner must be a non-empty string (the principal subject)');
  }
}

function positiveInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(path, 'must be a positive integer');
  }
  return value;
}

/**
 * A value the database cannot take for its column (PostgreSQL SQLSTATE class 22, "data exception":
 * text for an integer, a NUL character, a number out of range) is the caller's mistake: it becomes
 * a tool error like any invalid argument, not an internal failure. SQLite, dynamically typed, has
 * none of these.
 */
async function refuseDataErrors<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('22')) {
      throw invalidArgument('a value does not fit its column');
    }
    throw error;
  }
}
