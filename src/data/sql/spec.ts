import { ConfigError } from '../../core/errors.js';

/**
 * How one table is exposed to tools: which column holds the owner, which columns a caller may see
 * and filter on, and which must never leave the server.
 *
 * `Column` is the table's column names when the `Kysely` database type is known, so a typo in the
 * spec fails to compile.
 */
export interface TableSpec<Column extends string = string> {
  /** Rows are filtered by `ownerColumn = owner` (the principal's subject). Never selectable or filterable. */
  readonly ownerColumn: Column;
  /** Allow-listed columns a caller may filter on and sees, in this order. At least one. */
  readonly columns: readonly Column[];
  /** Columns that exist but are never selected and never filterable, e.g. `internal_notes`. */
  readonly hiddenColumns?: readonly Column[];
  /** Column `deleteOwned` matches the id against. Default `'id'`. */
  readonly primaryKey?: Column;
}

/** A validated, frozen table spec (internal). */
export interface CompiledTable {
  readonly name: string;
  readonly ownerColumn: string;
  readonly columns: readonly string[];
  readonly primaryKey: string;
  /** Null-prototype set of filterable columns, looked up with `Object.hasOwn`. */
  readonly filterable: Readonly<Record<string, true>>;
}

// Plain SQL identifiers only: the dialect quotes them anyway, this keeps schema-qualified names,
// quotes and whitespace out of the allow-list altogether (use `db.withSchema()` for a schema).
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Validates the table specs once, at start-up, and returns null-prototype lookup tables.
 *
 * @throws ConfigError for a bad identifier, no tables, an empty or duplicate column list, an owner
 *   column that is also listed or hidden, a column both listed and hidden, or a hidden primary key.
 */
export function compileTables(
  tables: Readonly<Record<string, TableSpec | undefined>>,
  path = 'tables',
): Readonly<Record<string, CompiledTable>> {
  if (tables === null || typeof tables !== 'object') throw new ConfigError(path, 'must be an object');
  const compiled: Record<string, CompiledTable> = Object.create(null);
  for (const name of Object.keys(tables)) {
    const spec = tables[name];
    if (spec === undefined) continue;
    const at = `${path}.${name}`;
    if (!IDENTIFIER.test(name)) throw new ConfigError(at, 'table name must be a plain SQL identifier');
    compiled[name] = compileTable(name, spec, at);
  }
  if (Object.keys(compiled).length === 0) throw new ConfigError(path, 'at least one table is required');
  return Object.freeze(compiled);
}

function compileTable(name: string, spec: TableSpec, at: string): CompiledTable {
  const ownerColumn = identifier(spec.ownerColumn, `${at}.ownerColumn`);
  const primaryKey = identifier(spec.primaryKey ?? 'id', `${at}.primaryKey`);
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) {
    throw new ConfigError(`${at}.columns`, 'must list at least one column');
  }
  const filterable: Record<string, true> = Object.create(null);
  spec.columns.forEach((column, i) => {
    const c = identifier(column, `${at}.columns[${i}]`);
    if (Object.hasOwn(filterable, c)) throw new ConfigError(`${at}.columns[${i}]`, 'duplicate column');
    // The owner filter is fixed by the caller's identity: a filter on it could only narrow, but
    // listing it would invite `owner ne x` style confusion, so it is neither visible nor filterable.
    if (c === ownerColumn) throw new ConfigError(`${at}.columns[${i}]`, 'the owner column cannot be listed');
    filterable[c] = true;
  });
  (spec.hiddenColumns ?? []).forEach((column, i) => {
    const c = identifier(column, `${at}.hiddenColumns[${i}]`);
    if (Object.hasOwn(filterable, c) || c === ownerColumn) {
      throw new ConfigError(`${at}.hiddenColumns[${i}]`, 'a hidden column cannot also be listed');
    }
    if (c === primaryKey) throw new ConfigError(`${at}.primaryKey`, 'the primary key cannot be hidden');
  });
  if (primaryKey === ownerColumn) throw new ConfigError(`${at}.primaryKey`, 'cannot be the owner column');
  return Object.freeze({
    name,
    ownerColumn,
    columns: Object.freeze([...spec.columns]),
    primaryKey,
    filterable: Object.freeze(filterable),
  });
}

function identifier(value: unknown, at: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new ConfigError(at, 'must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)');
  }
  return value;
}
