import { z } from 'zod';
import { FILTER_LIMITS, type Filter } from './filters.js';

/** What `query` takes: a table, optional filters (ANDed), an optional row limit. */
export interface QueryInput {
  readonly table: string;
  readonly filters?: readonly Filter[];
  readonly limit?: number;
}

/** Limits of the query schema. */
export interface QuerySchemaLimits {
  readonly maxLimit: number;
  readonly defaultLimit: number;
}

/**
 * Builds the zod schema of {@link QueryInput} for a set of tables: `table` is an enum of the table
 * names, `column` an enum of every filterable column of any table (the per-table check happens in
 * `query`), one object shape per operator so the JSON Schema tells clients which value fits, and
 * strict objects throughout.
 */
export function buildQuerySchema(
  tableNames: readonly string[],
  columnNames: readonly string[],
  limits: QuerySchemaLimits,
): z.ZodType<QueryInput> {
  const column = z.enum(columnNames as [string, ...string[]]);
  const text = z.string().max(FILTER_LIMITS.maxStringLength);
  // z.number() rejects NaN and ±Infinity in zod 4.
  const comparable = z.union([text, z.number()]);
  const filter = z.discriminatedUnion('operator', [
    z.strictObject({
      column,
      operator: z.enum(['eq', 'ne']),
      value: z.union([text, z.number(), z.boolean(), z.null()]),
    }),
    z.strictObject({ column, operator: z.enum(['lt', 'gt']), value: comparable }),
    z.strictObject({ column, operator: z.literal('like'), value: text }),
    z.strictObject({
      column,
      operator: z.literal('in'),
      value: z.array(comparable).max(FILTER_LIMITS.maxInItems),
    }),
  ]);
  return z.strictObject({
    table: z.enum(tableNames as [string, ...string[]]),
    filters: z.array(filter).max(FILTER_LIMITS.maxFilters).optional(),
    limit: z.number().int().min(1).max(limits.maxLimit).default(limits.defaultLimit),
  });
}
