import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { RampartError } from '../../core/errors.js';
import type { CompiledTable } from './spec.js';

/** A comparison a caller may ask for. `like` is a literal contains-match; `in` takes a list. */
export type FilterOperator = 'eq' | 'ne' | 'lt' | 'gt' | 'like' | 'in';

/** A scalar a filter compares with. */
export type FilterScalar = string | number | boolean | null;

/** One filter: `column operator value`, always ANDed with the others and with the owner filter. */
export interface Filter {
  readonly column: string;
  readonly operator: FilterOperator;
  readonly value: FilterScalar | ReadonlyArray<string | number>;
}

/**
 * The database type the layer works on internally: table and column names are only known at run
 * time (from the allow-list), so every table is a string-keyed record.
 */
export type OpaqueDb = Record<string, Record<string, unknown>>;

/** Limits on filter values, enforced here as well as in the zod schema. */
export const FILTER_LIMITS = Object.freeze({ maxFilters: 20, maxInItems: 100, maxStringLength: 1000 });

/** The escape character used with every LIKE (SQLite has no default; PostgreSQL's is the same). */
export const LIKE_ESCAPE = '\\';

/**
 * Escapes `\`, `%` and `_` so that a LIKE pattern matches the text literally.
 *
 * @example
 * escapeLike('100%_off'); // '100\\%\\_off'
 */
export function escapeLike(text: string): string {
  // Backslash first, or the escapes added for % and _ would be doubled.
  return text.replace(/[\\%_]/g, (c) => `${LIKE_ESCAPE}${c}`);
}

/** A bad argument: the fixed message only; `reason` (never input text) goes to the logs via `cause`. */
export function invalidArgument(reason: string): RampartError {
  return new RampartError('ERR_TOOL_INVALID_ARGUMENT', { cause: new Error(reason) });
}

/**
 * Checks one filter against the table's allow-list and the operator's value type.
 *
 * @throws RampartError `ERR_TOOL_INVALID_ARGUMENT` for a column that is not filterable on this
 *   table (unknown, hidden or the owner column alike), an unknown operator or a value of the wrong type.
 */
export function checkFilter(table: CompiledTable, filter: Filter): void {
  if (filter === null || typeof filter !== 'object') throw invalidArgument('filter is not an object');
  const { column, operator, value } = filter;
  if (typeof column !== 'string' || !Object.hasOwn(table.filterable, column)) {
    throw invalidArgument('column is not filterable on this table');
  }
  switch (operator) {
    case 'eq':
    case 'ne':
      if (value !== null && typeof value !== 'boolean' && !isComparable(value)) {
        throw invalidArgument('eq/ne take a string, number, boolean or null');
      }
      return;
    case 'lt':
    case 'gt':
      // Ordering booleans or NULL has no portable meaning (NULL compares as unknown).
      if (!isComparable(value)) throw invalidArgument('lt/gt take a string or a number');
      return;
    case 'like':
      if (!isString(value)) throw invalidArgument('like takes a string');
      return;
    case 'in':
      if (!Array.isArray(value) || value.length > FILTER_LIMITS.maxInItems || !value.every(isComparable)) {
        throw invalidArgument('in takes a list of strings or numbers');
      }
      return;
    default:
      throw invalidArgument('unknown filter operator');
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= FILTER_LIMITS.maxStringLength;
}

function isComparable(value: unknown): value is string | number {
  return isString(value) || (typeof value === 'number' && Number.isFinite(value));
}

/** True when the filter can match no row at all (`in` with an empty list). */
export function matchesNothing(filter: Filter): boolean {
  return filter.operator === 'in' && Array.isArray(filter.value) && filter.value.length === 0;
}

/**
 * Turns a checked filter into a kysely expression. Column names come from the caller's filter but
 * were checked against the allow-list; every value is a bound parameter, except booleans, which are
 * rendered as the SQL literals TRUE/FALSE (better-sqlite3 cannot bind booleans; PostgreSQL needs a
 * boolean, not 1/0).
 */
export function filterExpression(
  eb: ExpressionBuilder<OpaqueDb, string>,
  filter: Filter,
): Expression<SqlBool> {
  const { column, value } = filter;
  const ref = eb.ref(column);
  switch (filter.operator) {
    case 'eq':
      if (value === null) return eb(ref, 'is', null);
      return eb(ref, '=', typeof value === 'boolean' ? eb.lit(value) : eb.val(value));
    case 'ne':
      if (value === null) return eb(ref, 'is not', null);
      return eb(ref, '<>', typeof value === 'boolean' ? eb.lit(value) : eb.val(value));
    case 'lt':
      return eb(ref, '<', eb.val(value));
    case 'gt':
      return eb(ref, '>', eb.val(value));
    case 'like':
      // Contains-match on the literal text: `%` + escaped + `%`, with an explicit ESCAPE clause.
      return sql<SqlBool>`${ref} like ${`%${escapeLike(value as string)}%`} escape ${LIKE_ESCAPE}`;
    case 'in':
      return eb(ref, 'in', value as ReadonlyArray<string | number>);
  }
}
