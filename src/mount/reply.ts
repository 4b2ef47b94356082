import type { JsonRpcId } from '../protocol/envelope.js';

/** A JSON-RPC error as the mounted server sent it. */
export interface UpstreamError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** The mounted server's answer: a result, an error with its HTTP status, or none (notification). */
export type UpstreamReply =
  | { readonly result: Record<string, unknown> }
  | { readonly error: UpstreamError; readonly status: number }
  | undefined;

const MAX_MESSAGE = 500;
/** Errors whose `data` MCP defines (resource not found: the uri; URL elicitation required). */
const DATA_CODES: ReadonlySet<number> = new Set([-32002, -32042]);

/**
 * The protocol errors a mounted server may pass to the client: JSON-RPC's parse, invalid request,
 * method not found and invalid params, and MCP's resource not found and URL elicitation required.
 * Any other code is an internal error (-32603), a transport failure of an SDK (-32000, -32001), or
 * an exception that brought its own `code` along (gRPC, database drivers, JSON-RPC libraries'
 * "server error" -32000…-32099), and its text is as internal as an `Internal error`'s; -32000 is
 * also retired for new servers in 2026-07-28.
 */
const CLIENT_CODES: ReadonlySet<number> = new Set([-32700, -32600, -32601, -32602, -32002, -32042]);

/**
 * A mounted server failed inside: answered `ERR_INTERNAL` (with the request id) like any internal
 * failure, and logged with what it said, which never reaches the client.
 */
export class MountedServerFault extends Error {
  override readonly name = 'MountedServerFault';
}

/**
 * Reads the SDK handler's response: a JSON body, or an SSE stream (the SDK's legacy leg always
 * streams) of which only the response to `id` counts; notifications before it are dropped, since
 * the boundary answers each request with one JSON body.
 *
 * @throws MountedServerFault when the answer is not a JSON-RPC response to `id`, or is an error
 *   that is not a protocol error for the client: answered `ERR_INTERNAL` to the client and logged.
 */
export async function readReply(response: Response, id: JsonRpcId | undefined): Promise<UpstreamReply> {
  if (id === undefined || response.status === 202) {
    await response.body?.cancel();
    return undefined;
  }
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  const messages = type.startsWith('text/event-stream') ? sseData(text) : [text];
  for (const raw of messages) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      continue;
    }
    const reply = asReply(parsed, id, response.status);
    if (reply) return reply;
  }
  throw new MountedServerFault(
    `mounted server gave no JSON-RPC response to id ${JSON.stringify(id)} (HTTP ${response.status})`,
  );
}

function asReply(value: unknown, id: JsonRpcId, status: number): UpstreamReply | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const msg = value as Record<string, unknown>;
  if (msg.id !== id) return null;
  const result = msg.result;
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    return { result: result as Record<string, unknown> };
  }
  const error = msg.error as Record<string, unknown> | null | undefined;
  if (error && typeof error.code === 'number' && Number.isInteger(error.code)) {
    if (!CLIENT_CODES.has(error.code)) {
      // An exception inside the mounted server: its text may carry internals, so it stays here.
      const text = typeof error.message === 'string' ? error.message.slice(0, 2000) : '';
      throw new MountedServerFault(`mounted server failed: error ${error.code}: ${text}`);
    }
    // The first line only: a stack trace, if one came along, starts on the second.
    const message =
      typeof error.message === 'string'
        ? (error.message.split(/\r?\n/, 1)[0] ?? '').slice(0, MAX_MESSAGE)
        : 'Error';
    const data = DATA_CODES.has(error.code) && error.data !== undefined ? { data: error.data } : {};
    return {
      error: { code: error.code, message, ...data },
      status: status >= 400 && status < 500 ? status : 200,
    };
  }
  return null;
}

/** The `data` payloads of an SSE stream (one event per blank-line-separated block). */
function sseData(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('data:')) lines.push(line.slice(line[5] === ' ' ? 6 : 5));
    }
    if (lines.length > 0) out.push(lines.join('\n'));
  }
  return out;
}
