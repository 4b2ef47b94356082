import type { Principal } from '../auth/principal.js';
import { decideToolAccess, type ToolRequirement } from '../authz/decide.js';
import type { ScopeHierarchy } from '../authz/scopes.js';
import { RampartError } from '../core/errors.js';
import type { Dispatch, DispatchRequest, DispatchResult } from '../protocol/dispatch.js';
import type { SanitizeOutput } from '../sanitize/from-config.js';
import type { MountedServer } from './sdk-mount.js';

/** What the mount's routing shares with the boundary's own dispatcher. */
export interface MountRouteOptions {
  /** Rampart's own tool names: they win over mounted tools of the same name. */
  readonly ownTools: ReadonlySet<string>;
  readonly hierarchy: ScopeHierarchy;
  readonly limitTool?: ((principal: Principal, tool: string) => void | Promise<void>) | undefined;
  readonly sanitize?: SanitizeOutput | undefined;
}

/** Methods whose results are content a caller reads: cleaned and capped like tool results. */
const CONTENT_METHODS: ReadonlySet<string> = new Set([
  'resources/read',
  'prompts/get',
  'completion/complete',
]);

/** Capabilities the mounted server may advertise, and the method that must be allowed for each. */
const CAPABILITY_METHOD: Readonly<Record<string, string>> = {
  resources: 'resources/list',
  prompts: 'prompts/list',
  completions: 'completion/complete',
  logging: 'logging/setLevel',
  tasks: 'tasks/get',
};

/**
 * Puts a mounted SDK server behind the boundary's dispatcher. Rampart's own tools keep the lean
 * path; everything else is authorized here from the mount's rules and then forwarded:
 * - `tools/call` of a mounted tool needs the tool's rule; a tool without one is unknown.
 * - `tools/list` merges Rampart's tools with the mounted ones the caller may call.
 * - other methods need a method rule, or they are not found.
 * - `initialize` and `server/discover` carry the mounted server's identity and the capabilities
 *   that the rules actually let through.
 */
export function routeWithMount(own: Dispatch, mount: MountedServer, options: MountRouteOptions): Dispatch {
  const { ownTools, hierarchy, limitTool, sanitize } = options;
  function authorize(principal: Principal, rule: ToolRequirement): void {
    const decision = decideToolAccess(principal, rule, hierarchy);
    if (decision.allow) return;
    if (decision.reason === 'insufficient_scope') {
      throw new RampartError('ERR_AUTHZ_INSUFFICIENT_SCOPE', {
        data: { requiredScopes: decision.requiredScopes },
      });
    }
    throw new RampartError('ERR_AUTHZ_FORBIDDEN');
  }

  async function forward(req: DispatchRequest): Promise<DispatchResult> {
    const reply = await mount.forward({
      message: req.message,
      headers: req.headers,
      principal: req.principal,
      signal: req.signalSource.signal,
    });
    // A refusal's message and data are the mounted server's text too.
    if (sanitize && reply && 'error' in reply) {
      return { ...reply, error: sanitize.listing(reply.error, req.message.method, req.requestId) };
    }
    return reply;
  }

  /**
   * A mounted server's answer, cleaned as output: what a caller reads (resource text, prompt
   * messages, completions) is cleaned and capped like a tool result; listings are cleaned whole.
   */
  function cleanResult(reply: DispatchResult, req: DispatchRequest): DispatchResult {
    if (!sanitize || !reply || !('result' in reply)) return reply;
    const { method } = req.message;
    if (CONTENT_METHODS.has(method)) return { result: sanitize(reply.result, method, req.requestId) };
    return { result: sanitize.listing(reply.result, method, req.requestId) };
  }

  /** Own answer with the mounted server's identity and the capabilities the rules let through. */
  async function describe(req: DispatchRequest): Promise<DispatchResult> {
    const mine = await own(req);
    const theirs = await forward(req);
    if (!mine || !('result' in mine) || !theirs || !('result' in theirs)) return theirs ?? mine;
    const result: Record<string, unknown> = {
      ...mine.result,
      capabilities: mergeCapabilities(theirs.result.capabilities),
    };
    // Identity and instructions are the mounted server's text: cleaned like the rest of it.
    const clean = <T>(value: T): T =>
      sanitize ? sanitize.listing(value, req.message.method, req.requestId) : value;
    if (theirs.result.serverInfo !== undefined) result.serverInfo = clean(theirs.result.serverInfo);
    if (theirs.result._meta !== undefined && mine.result._meta !== undefined)
      result._meta = theirs.result._meta;
    if (result.instructions === undefined && typeof theirs.result.instructions === 'string') {
      result.instructions = clean(theirs.result.instructions);
    }
    return { result };
  }

  function mergeCapabilities(upstream: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (upstream !== null && typeof upstream === 'object') {
      for (const [name, method] of Object.entries(CAPABILITY_METHOD)) {
        const value = (upstream as Record<string, unknown>)[name];
        if (value === undefined || !mount.rules.method(method)) continue;
        // Change notifications and subscriptions need a server-to-client stream the boundary does not relay.
        const { listChanged: _l, subscribe: _s, ...rest } = (value ?? {}) as Record<string, unknown>;
        out[name] = rest;
      }
    }
    out.tools = { listChanged: false };
    return out;
  }

  /** A generic failure in place of a mounted tool's error text, which goes to the log instead. */
  function hideToolError(
    result: Record<string, unknown>,
    tool: string,
    requestId: string,
  ): Record<string, unknown> {
    const content = Array.isArray(result.content) ? (result.content as { text?: unknown }[]) : [];
    mount.reportHiddenError(
      tool,
      requestId,
      content.map((c) => (typeof c.text === 'string' ? c.text : '')).join('\n'),
    );
    const { structuredContent: _s, ...rest } = result;
    return {
      ...rest,
      isError: true,
      content: [{ type: 'text', text: `The tool failed (request id ${requestId})` }],
    };
  }

  async function listTools(req: DispatchRequest): Promise<DispatchResult> {
    const cursor = req.message.params?.cursor;
    const theirs = await forward(req);
    if (!theirs || !('result' in theirs)) return theirs;
    const upstream = Array.isArray(theirs.result.tools) ? (theirs.result.tools as unknown[]) : [];
    const visible = upstream.filter((tool) => {
      const name = (tool as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || ownTools.has(name)) return false;
      const rule = mount.rules.tool(name);
      return rule !== undefined && decideToolAccess(req.principal, rule, hierarchy).allow;
    });
    // Rampart's own tools lead the first page; later pages are the mounted server's, whose
    // descriptions are cleaned like any text it sends.
    let tools = sanitize ? sanitize.listing(visible, 'tools/list', req.requestId) : visible;
    if (cursor === undefined) {
      const mine = await own(req);
      const list = mine && 'result' in mine ? mine.result.tools : undefined;
      if (Array.isArray(list)) tools = [...list, ...tools];
    }
    const result: Record<string, unknown> = { ...theirs.result, tools };
    if (req.classified.era === 'modern') {
      // Filtered per caller: private, whatever the mounted server said.
      result.cacheScope = 'private';
    }
    return { result };
  }

  return async function dispatchWithMount(req: DispatchRequest): Promise<DispatchResult> {
    const { message } = req;
    if (message.id === undefined) return own(req);
    switch (message.method) {
      case 'ping':
        return own(req);
      case 'initialize':
        if (req.classified.era !== 'legacy') return own(req);
        return describe(req);
      case 'server/discover':
        return describe(req);
      case 'tools/list':
        return listTools(req);
      case 'tools/call': {
        const name = message.params?.name;
        if (typeof name !== 'string' || ownTools.has(name)) return own(req);
        const rule = mount.rules.tool(name);
        if (!rule) throw new RampartError('ERR_PROTOCOL_UNKNOWN_TOOL');
        authorize(req.principal, rule);
        if (limitTool) await limitTool(req.principal, name);
        const reply = await forward(req);
        if (reply && 'result' in reply) {
          const failed = reply.result.isError === true;
          req.outcomes?.noteOutcome(failed ? 'error' : 'allow', failed ? 'tool_error' : 'ok');
          if (failed && !mount.exposeToolErrors)
            return { result: hideToolError(reply.result, name, req.requestId) };
          if (sanitize) return { result: sanitize(reply.result, name, req.requestId) };
        }
        return reply;
      }
      default: {
        const rule = mount.rules.method(message.method);
        if (!rule) return own(req);
        authorize(req.principal, rule);
        return cleanResult(await forward(req), req);
      }
    }
  };
}
