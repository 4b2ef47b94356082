import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { decideToolAccess } from '../authz/decide.js';
import type { ScopeHierarchy } from '../authz/scopes.js';
import { RampartError } from '../core/errors.js';
import type { HeaderReader } from '../core/exchange.js';
import type { UpstreamError } from '../mount/reply.js';
import type { SanitizeOutput } from '../sanitize/from-config.js';
import type { Tool, ToolContext, ToolResult } from '../tools/define-tool.js';
import { describeIssues, formatPath } from '../tools/issues.js';
import { ToolError, toolError, toToolResult } from '../tools/result.js';
import { findUnknownKey } from '../tools/unknown-keys.js';
import type { Classified } from './classify.js';
import type { JsonRpcMessage } from './envelope.js';
import { LEGACY_VERSIONS, META_SERVER_INFO, supportedVersions } from './versions.js';

/** What the dispatcher needs to know about the server; built once. */
export interface DispatchOptions {
  readonly tools: ReadonlyMap<string, Tool>;
  readonly hierarchy: ScopeHierarchy;
  readonly serverInfo: { readonly name: string; readonly version: string };
  readonly instructions?: string | undefined;
  readonly listTtlMs: number;
  readonly legacyEnabled: boolean;
  /** Cleans a tool result before it leaves (secrets, control characters, size). */
  readonly sanitize?: SanitizeOutput | undefined;
  /** Charges a principal for one call of a tool; throws `ERR_RATE_LIMITED` when refused. */
  readonly limitTool?: ((principal: Principal, tool: string) => void | Promise<void>) | undefined;
  /** Called with a handler's unexpected exception; the client sees only a generic error. */
  readonly onToolFailure: (error: unknown, tool: string, requestId: string) => void;
}

/** Per-request inputs of the dispatcher. */
export interface DispatchRequest {
  readonly message: JsonRpcMessage;
  readonly classified: Classified;
  readonly principal: Principal;
  readonly requestId: string;
  /** The request headers, already checked against the body (a mounted server gets the MCP ones). */
  readonly headers: HeaderReader;
  /**
   * Where the abort signal comes from (the inbound request). Read `.signal` only when it is needed:
   * the Node adapter builds its AbortController on first access (~6 µs a request).
   */
  readonly signalSource: { readonly signal: AbortSignal };
  /** Told how a tool call ended, for the audit trail (an object, so no closure per request). */
  readonly outcomes?: OutcomeListener | undefined;
}

/** Receives how a tool call ended: allowed, denied (and why) or failed. */
export interface OutcomeListener {
  noteOutcome(outcome: 'allow' | 'deny' | 'error', reason: string): void;
}

/**
 * A JSON-RPC result to send, or an error a mounted server answered with (and its HTTP status);
 * notifications get `undefined`: 202 with no body.
 */
export type DispatchResult =
  | { readonly result: Record<string, unknown> }
  | { readonly error: UpstreamError; readonly status: number }
  | undefined;

/**
 * The lean MCP dispatcher for Rampart's own tools: `server/discover`, `tools/list`, `tools/call`,
 * `ping`, legacy `initialize` and notifications. Protocol errors are thrown as RampartError; tool
 * failures are tool results with `isError: true` (MCP tools §Error Handling).
 */
export function createDispatcher(options: DispatchOptions) {
  const { tools, hierarchy } = options;
  const serverInfoMeta = { [META_SERVER_INFO]: options.serverInfo };
  const capabilities = { tools: { listChanged: false } };

  function complete(classified: Classified, result: object): Record<string, unknown> {
    if (classified.era === 'legacy') return result as Record<string, unknown>;
    return { resultType: 'complete', ...result, _meta: serverInfoMeta };
  }

  function listTools(principal: Principal): Record<string, unknown>[] {
    const visible: Record<string, unknown>[] = [];
    for (const tool of tools.values()) {
      if (decideToolAccess(principal, tool, hierarchy).allow) visible.push(tool.descriptor);
    }
    return visible;
  }

  async function callTool(req: DispatchRequest): Promise<ToolResult> {
    const params = req.message.params ?? {};
    const name = params.name;
    if (typeof name !== 'string') throw new RampartError('ERR_PROTOCOL_INVALID_PARAMS');
    const tool = tools.get(name);
    if (!tool) throw new RampartError('ERR_PROTOCOL_UNKNOWN_TOOL');
    const decision = decideToolAccess(req.principal, tool, hierarchy);
    if (!decision.allow) {
      if (decision.reason === 'insufficient_scope') {
        throw new RampartError('ERR_AUTHZ_INSUFFICIENT_SCOPE', {
          data: { requiredScopes: decision.requiredScopes },
        });
      }
      throw new RampartError('ERR_AUTHZ_FORBIDDEN');
    }
    const limited = options.limitTool?.(req.principal, tool.name);
    if (limited) await limited;
    const rawArgs = params.arguments ?? {};
    if (rawArgs === null || typeof rawArgs !== 'object' || Array.isArray(rawArgs)) {
      req.outcomes?.noteOutcome('deny', 'invalid_arguments');
      return toolError('Invalid arguments: (arguments): expected object');
    }
    const unknownAt = findUnknownKey(tool.input, rawArgs);
    if (unknownAt) {
      req.outcomes?.noteOutcome('deny', 'invalid_arguments');
      return toolError(`Invalid arguments: ${formatPath(unknownAt)}: has unknown properties`);
    }
    // Awaited only when it is a promise: each await of a plain value is a microtask turn.
    const parsing = parseArguments(tool, rawArgs);
    const parsed = isThenable(parsing) ? await parsing : parsing;
    if (!parsed.success) {
      req.outcomes?.noteOutcome('deny', 'invalid_arguments');
      return toolError(describeIssues(parsed.error.issues));
    }
    try {
      if (tool.allow) {
        const verdict = await tool.allow(parsed.data, req.principal);
        if (verdict !== true) {
          req.outcomes?.noteOutcome('deny', 'denied_by_rule');
          return toolError(
            typeof verdict === 'string' && verdict ? `Not permitted: ${verdict}` : 'Not permitted',
          );
        }
      }
      const returned = tool.handler(
        parsed.data,
        new CallContext(req.principal, req.requestId, req.signalSource),
      );
      const value = isThenable(returned) ? await returned : returned;
      const result = toToolResult(value);
      req.outcomes?.noteOutcome(result.isError ? 'error' : 'allow', result.isError ? 'tool_error' : 'ok');
      return result;
    } catch (error) {
      if (error instanceof ToolError) {
        req.outcomes?.noteOutcome('error', 'tool_error');
        return toolError(error.message);
      }
      if (error instanceof RampartError && error.info.rpc === -32602) {
        req.outcomes?.noteOutcome('deny', error.code);
        return toolError(error.message);
      }
      req.outcomes?.noteOutcome('error', 'tool_failed');
      options.onToolFailure(error, tool.name, req.requestId);
      return toolError(`The tool failed (request id ${req.requestId})`);
    }
  }

  return async function dispatch(req: DispatchRequest): Promise<DispatchResult> {
    const { message, classified } = req;
    if (message.id === undefined) {
      // Notifications: nothing to do for any we know (initialized, cancelled, roots changed).
      return undefined;
    }
    switch (message.method) {
      case 'ping':
        // 2026-07-28 removed ping; legacy clients still use it.
        if (classified.era !== 'legacy') throw new RampartError('ERR_PROTOCOL_METHOD_NOT_FOUND');
        return { result: {} };
      case 'server/discover':
        return {
          result: {
            resultType: 'complete',
            supportedVersions: supportedVersions(options.legacyEnabled),
            capabilities,
            ...(options.instructions ? { instructions: options.instructions } : {}),
            ttlMs: options.listTtlMs,
            cacheScope: 'public',
            _meta: serverInfoMeta,
          },
        };
      case 'initialize': {
        if (classified.era !== 'legacy') throw new RampartError('ERR_PROTOCOL_METHOD_NOT_FOUND');
        const requested = req.message.params?.protocolVersion;
        const version =
          typeof requested === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(requested)
            ? requested
            : LEGACY_VERSIONS[0];
        return {
          result: {
            protocolVersion: version,
            capabilities,
            serverInfo: options.serverInfo,
            ...(options.instructions ? { instructions: options.instructions } : {}),
          },
        };
      }
      case 'tools/list': {
        const result: Record<string, unknown> = { tools: listTools(req.principal) };
        // The list depends on the caller's scopes and roles: private (caching §Choosing a Cache Scope).
        if (classified.era === 'modern')
          Object.assign(result, { ttlMs: options.listTtlMs, cacheScope: 'private' });
        return { result: complete(classified, result) };
      }
      case 'tools/call': {
        const result = await callTool(req);
        const clean = options.sanitize
          ? options.sanitize(result, String(message.params?.name), req.requestId)
          : result;
        return { result: complete(classified, clean) };
      }
      default:
        throw new RampartError('ERR_PROTOCOL_METHOD_NOT_FOUND');
    }
  };
}

/** The dispatch function returned by {@link createDispatcher}. */
export type Dispatch = ReturnType<typeof createDispatcher>;

/**
 * Validates arguments synchronously when the schema allows it, which skips zod's promise chain on
 * every call; schemas with async refinements are recognised by zod's own error and parsed async
 * (and remembered, so they do not pay for the failed attempt again).
 */
const asyncSchemas = new WeakSet<object>();
/**
 * A handler's {@link ToolContext}. A class, not an object literal with a getter: such a literal gets
 * a hidden class of its own per request, which keeps the request alive through young collections.
 */
class CallContext implements ToolContext {
  readonly #source: { readonly signal: AbortSignal };

  constructor(
    readonly principal: Principal,
    readonly requestId: string,
    source: { readonly signal: AbortSignal },
  ) {
    this.#source = source;
  }

  get signal(): AbortSignal {
    return this.#source.signal;
  }
}

/** A promise or any other thenable (a handler may return one from another library). */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function parseArguments(tool: Tool, args: unknown) {
  if (!asyncSchemas.has(tool.input)) {
    try {
      return tool.input.safeParse(args);
    } catch (error) {
      if (!(error instanceof z.core.$ZodAsyncError)) throw error;
      asyncSchemas.add(tool.input);
    }
  }
  return tool.input.safeParseAsync(args);
}
