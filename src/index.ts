/**
 * Rampart: defense in depth for remote MCP servers.
 *
 * @example
 * import { createRampart, defineTool } from 'rampart-mcp';
 * import { listen } from 'rampart-mcp/node';
 */

export { type ListenOptions, listen, type RunningServer } from './adapters/node/listen.js';
export type { AuthMethod, Principal } from './auth/principal.js';
export type { Credential, TokenVerifier } from './auth/verifier.js';
export {
  type AccessDecision,
  createScopeHierarchy,
  decideToolAccess,
  type ScopeHierarchy,
} from './authz/index.js';
export {
  configSchema,
  loadConfigFile,
  type RampartConfigInput,
  type ResolvedConfig,
  resolveConfig,
} from './config/index.js';
export { createRampart, type Rampart, type RampartOptions } from './core/create-rampart.js';
export { ERROR_CODES, type ErrorCode } from './core/error-codes.js';
export { ConfigError, isRampartError, RampartError } from './core/errors.js';
export type { AccessRule, MountOptions } from './mount/options.js';
export { LEGACY_VERSIONS, MODERN_VERSIONS } from './protocol/versions.js';
export {
  type ArgumentPolicy,
  defineTool,
  type Tool,
  type ToolContext,
  ToolError,
  type ToolOptions,
  type ToolResult,
  type ToolReturn,
} from './tools/index.js';
