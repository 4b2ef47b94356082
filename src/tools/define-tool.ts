import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { parseRate } from '../ratelimit/rate.js';

/** One piece of tool output, as in MCP `CallToolResult.content`. */
export type ToolContent =
  | { type: 'text'; text: string; annotations?: Record<string, unknown> }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'audio'; data: string; mimeType: string }
  | { type: 'resource_link'; uri: string; name: string; mimeType?: string; description?: string }
  | {
      type: 'resource';
      resource:
        | { uri: string; mimeType?: string; text: string }
        | { uri: string; mimeType?: string; blob: string };
    };

/** A tool result in MCP shape. */
export interface ToolResult {
  content: ToolContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** What a handler may return: text, an MCP result, or a JSON object (sent as structured content). */
export type ToolReturn = string | ToolResult | Record<string, unknown> | readonly unknown[];

/** What a handler gets besides its arguments. */
export interface ToolContext {
  /** The authenticated caller; use `principal.subject` to scope data to its owner. */
  readonly principal: Principal;
  /** The request id, also in the server log and (later) the audit trail. */
  readonly requestId: string;
  /** Aborted when the client goes away or the request times out. */
  readonly signal: AbortSignal;
}

/**
 * A policy on the arguments: `true` allows, `false` or a reason string denies. The reason is
 * written by the tool's author and returned to the client as the tool error text.
 */
export type ArgumentPolicy<Args> = (
  args: Args,
  principal: Principal,
) => boolean | string | Promise<boolean | string>;

/** Options of {@link defineTool}. */
export interface ToolOptions<Schema extends z.ZodType> {
  /** Unique name, `^[A-Za-z0-9_.-]{1,128}$` (MCP tool-name guidance). */
  name: string;
  title?: string;
  description: string;
  /** zod schema of the arguments. Unknown keys are rejected unless the object is `z.looseObject`. */
  input: Schema;
  /** Scope the caller needs, e.g. `mcp:read`. Required: a tool without a scope is denied to all. */
  scope: string;
  /** Roles the caller must have as well, e.g. `['admin']`. */
  roles?: readonly string[];
  /** Hint for clients: the tool changes nothing. */
  readOnly?: boolean;
  /** Hint for clients: the tool may destroy data. */
  destructive?: boolean;
  /** Hint for clients: calling twice has no further effect. */
  idempotent?: boolean;
  /** Hint for clients: the tool reaches outside systems. */
  openWorld?: boolean;
  /**
   * This tool's own rate per principal, such as `5/hour` for a destructive admin tool. The
   * configuration's `rateLimit.tools` overrides it; without either, `rateLimit.perTool` applies.
   */
  rateLimit?: string;
  /** Argument-level rule, checked after validation and before the handler. */
  allow?: ArgumentPolicy<z.output<Schema>>;
  handler: (args: z.output<Schema>, context: ToolContext) => ToolReturn | Promise<ToolReturn>;
}

/** A tool ready for Rampart: the options plus what is derived from them once. */
export interface Tool<Schema extends z.ZodType = z.ZodType> extends Readonly<ToolOptions<Schema>> {
  /** The JSON Schema sent in `tools/list`. */
  readonly inputSchema: Readonly<Record<string, unknown>>;
  /** The `tools/list` entry. */
  readonly descriptor: Readonly<Record<string, unknown>>;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Declares a tool. The schema is converted to JSON Schema once here, not per request.
 *
 * @throws TypeError for a bad name, a missing scope or an input schema that is not an object.
 * @example
 * const echo = defineTool({
 *   name: 'echo', description: 'Echoes text', scope: 'mcp:read', readOnly: true,
 *   input: z.object({ text: z.string().max(1000) }),
 *   handler: ({ text }) => text,
 * });
 */
export function defineTool<Schema extends z.ZodType>(options: ToolOptions<Schema>): Tool<Schema> {
  if (!TOOL_NAME.test(options.name)) throw new TypeError(`tool name "${options.name}" is not allowed`);
  if (typeof options.scope !== 'string' || options.scope.length === 0) {
    throw new TypeError(`tool ${options.name}: a scope is required (default deny)`);
  }
  if (typeof options.handler !== 'function') throw new TypeError(`tool ${options.name}: handler is required`);
  if (options.rateLimit !== undefined && !parseRate(options.rateLimit)) {
    throw new TypeError(
      `tool ${options.name}: rateLimit "${options.rateLimit}" is not a rate such as 5/hour`,
    );
  }
  const inputSchema = toInputSchema(options.name, options.input);
  const annotations: Record<string, unknown> = {};
  if (options.title) annotations.title = options.title;
  if (options.readOnly !== undefined) annotations.readOnlyHint = options.readOnly;
  if (options.destructive !== undefined) annotations.destructiveHint = options.destructive;
  if (options.idempotent !== undefined) annotations.idempotentHint = options.idempotent;
  if (options.openWorld !== undefined) annotations.openWorldHint = options.openWorld;
  const descriptor: Record<string, unknown> = {
    name: options.name,
    ...(options.title ? { title: options.title } : {}),
    description: options.description,
    inputSchema,
    annotations,
  };
  return Object.freeze({ ...options, inputSchema, descriptor: Object.freeze(descriptor) });
}

function toInputSchema(name: string, schema: z.ZodType): Record<string, unknown> {
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch (cause) {
    throw new TypeError(`tool ${name}: input schema cannot be expressed as JSON Schema`, { cause });
  }
  if (json.type !== 'object') throw new TypeError(`tool ${name}: input must be an object schema`);
  delete json.$schema;
  // Tell clients what the server enforces: unknown keys are rejected (see unknown-keys.ts).
  if (json.additionalProperties === undefined) json.additionalProperties = false;
  return json;
}
