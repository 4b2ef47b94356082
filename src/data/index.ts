/**
 * Injection-safe data access for tools: owner-scoped SQL tables (`createOwnedTables`) and
 * sandboxed file reading (`createFileSandbox`). Exported as `rampart-mcp/data`.
 */
export * from './files/index.js';
export * from './sql/index.js';
