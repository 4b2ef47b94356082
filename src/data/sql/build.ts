import type { DeleteQueryBuilder, DeleteResult, Kysely, SelectQueryBuilder } from 'kysely';
import { type Filter, filterExpression, type OpaqueDb } from './filters.js';
import type { CompiledTable } from './spec.js';

/** A result row: the table's listed columns only. */
export type Row = Record<string, unknown>;

/**
 * Builds `select <listed columns> from <table> where <owner> = ? and <filters> order by <pk> limit ?`.
 * Names come from the compiled allow-list (filters must have been checked with `checkFilter`);
 * the owner, every filter value and the limit are bound parameters. Never `select *`, so hidden
 * columns cannot leak even if the table grows new ones.
 */
export function selectOwned(
  db: Kysely<OpaqueDb>,
  table: CompiledTable,
  owner: string,
  filters: readonly Filter[],
  limit: number,
): SelectQueryBuilder<OpaqueDb, string, Row> {
  return db
    .selectFrom(table.name)
    .select(table.columns)
    .where((eb) =>
      // The owner condition is the first conjunct and every filter is ANDed to it: no filter can
      // widen the result beyond the owner's rows.
      eb.and([eb(eb.ref(table.ownerColumn), '=', owner), ...filters.map((f) => filterExpression(eb, f))]),
    )
    .orderBy(table.primaryKey)
    .limit(limit) as SelectQueryBuilder<OpaqueDb, string, Row>;
}

/** Builds `delete from <table> where <pk> = ? and <owner> = ?`. */
export function deleteOwnedRow(
  db: Kysely<OpaqueDb>,
  table: CompiledTable,
  owner: string,
  id: string | number,
): DeleteQueryBuilder<OpaqueDb, string, DeleteResult> {
  return db
    .deleteFrom(table.name)
    .where((eb) =>
      eb.and([eb(eb.ref(table.primaryKey), '=', id), eb(eb.ref(table.ownerColumn), '=', owner)]),
    );
}
