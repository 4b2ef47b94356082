import type { McpServerFactory } from '@modelcontextprotocol/server';
import type { ToolRequirement } from '../authz/decide.js';
import { ConfigError } from '../core/errors.js';

/** What a caller needs for one mounted tool or method: a scope, or a scope plus roles. */
export type AccessRule = string | { readonly scope: string; readonly roles?: readonly string[] };

/**
 * Options of {@link RampartOptions.mount}: an official MCP SDK server behind Rampart's boundary.
 *
 * Rampart authenticates, checks Origin/Host, limits and parses the body and enforces the protocol
 * rules; then it authorizes the call from these rules and only then hands it to the SDK server.
 * Nothing is allowed by default: a tool or method without a rule is hidden and refused.
 *
 * @example
 * mount: {
 *   server: () => buildMyMcpServer(),
 *   tools: { search: 'mcp:read', reindex: { scope: 'mcp:admin', roles: ['admin'] } },
 * }
 */
export interface MountOptions {
  /**
   * Builds the SDK server (`McpServer` or `Server` from `@modelcontextprotocol/server`). Called per
   * request, as the SDK's stateless handler does; `ctx.authInfo.extra` carries the principal.
   */
  readonly server: McpServerFactory;
  /** The rule for each tool of the mounted server. Tools not named here are hidden and refused. */
  readonly tools: Readonly<Record<string, AccessRule>>;
  /**
   * Rules for other methods (`resources/read`, `prompts/get`, …). By default the read-only methods
   * (`resources/list`, `resources/templates/list`, `resources/read`, `prompts/list`, `prompts/get`,
   * `completion/complete`, `logging/setLevel`) need `mcp:read`. Give a method `null` to refuse it.
   */
  readonly methods?: Readonly<Record<string, AccessRule | null>>;
  /**
   * Pass the text of a mounted tool's error results (`isError: true`) to the client. Off by
   * default: the SDK turns any exception into such a result, so its text may hold paths, SQL or
   * internal messages; the client then gets a generic failure with the request id, and the text
   * goes to the server log. Turn it on for servers whose tool errors are written for the caller.
   */
  readonly exposeToolErrors?: boolean;
  /**
   * How long the mounted server has to answer one request, in ms; then the client gets an internal
   * error with the request id and the wait is logged. Default 60 000. A result the SDK cannot
   * serialize (a BigInt, say) otherwise left the call open until the client gave up.
   */
  readonly timeoutMs?: number;
}

/** Methods Rampart forwards under the default read rule, unless `methods` says otherwise. */
export const DEFAULT_READ_METHODS = [
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
] as const;

/** Methods the boundary itself answers; a mount rule for them would be misleading. */
const BOUNDARY_METHODS = new Set(['initialize', 'ping', 'server/discover', 'tools/list', 'tools/call']);

/** The mount's rules, checked against the configured scopes and frozen. */
export interface MountRules {
  tool(name: string): ToolRequirement | undefined;
  method(name: string): ToolRequirement | undefined;
}

/**
 * Checks the rules of a mount at start-up: every scope must be one the configuration knows, so a
 * typo cannot silently deny (or, worse, be read as some other scope) at request time.
 *
 * @throws ConfigError naming the rule.
 */
export function compileMountRules(
  options: MountOptions,
  knownScopes: ReadonlySet<string>,
  readScope: string,
): MountRules {
  const tools = new Map<string, ToolRequirement>();
  for (const [name, rule] of Object.entries(options.tools)) {
    tools.set(name, requirement(`mount.tools.${name}`, name, rule, knownScopes));
  }
  const methods = new Map<string, ToolRequirement>();
  for (const method of DEFAULT_READ_METHODS) methods.set(method, { name: method, scope: readScope });
  for (const [method, rule] of Object.entries(options.methods ?? {})) {
    if (BOUNDARY_METHODS.has(method)) {
      throw new ConfigError(`mount.methods.${method}`, 'is answered by the boundary; use mount.tools');
    }
    if (rule === null) methods.delete(method);
    else methods.set(method, requirement(`mount.methods.${method}`, method, rule, knownScopes));
  }
  return {
    tool: (name) => tools.get(name),
    method: (name) => methods.get(name),
  };
}

function requirement(
  path: string,
  name: string,
  rule: AccessRule,
  knownScopes: ReadonlySet<string>,
): ToolRequirement {
  const scope = typeof rule === 'string' ? rule : rule?.scope;
  if (typeof scope !== 'string' || !knownScopes.has(scope)) {
    throw new ConfigError(
      path,
      `needs a scope that authorization.scopes lists, got ${JSON.stringify(scope)}`,
    );
  }
  const roles = typeof rule === 'string' ? undefined : rule.roles;
  if (roles !== undefined && (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string'))) {
    throw new ConfigError(path, 'roles must be a list of strings');
  }
  return Object.freeze({ name, scope, roles: roles ? Object.freeze([...roles]) : undefined });
}
