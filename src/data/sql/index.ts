export type { Row } from './build.js';
export {
  escapeLike,
  FILTER_LIMITS,
  type Filter,
  type FilterOperator,
  type FilterScalar,
  LIKE_ESCAPE,
} from './filters.js';
export {
  createOwnedTables,
  type OwnedTables,
  type OwnedTablesOptions,
  type TableSpecs,
} from './owned-tables.js';
export { buildQuerySchema, type QueryInput, type QuerySchemaLimits } from './schema.js';
export type { TableSpec } from './spec.js';
