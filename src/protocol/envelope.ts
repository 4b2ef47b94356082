import { RampartError } from '../core/errors.js';

/** A JSON-RPC id as MCP allows it: a string or an integer, never null. */
export type JsonRpcId = string | number;

/** A parsed JSON-RPC request or notification. */
export interface JsonRpcMessage {
  readonly id: JsonRpcId | undefined;
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Checks the JSON-RPC 2.0 envelope of a parsed body (MCP basic §Messages).
 *
 * @throws RampartError `ERR_REQUEST_BATCH_UNSUPPORTED` for arrays, `ERR_REQUEST_INVALID_ENVELOPE` for
 *   anything that is not one request or notification (responses from a client included).
 */
export function parseEnvelope(value: unknown): JsonRpcMessage {
  if (Array.isArray(value)) throw new RampartError('ERR_REQUEST_BATCH_UNSUPPORTED');
  if (value === null || typeof value !== 'object') throw new RampartError('ERR_REQUEST_INVALID_ENVELOPE');
  const msg = value as Record<string, unknown>;
  if (msg.jsonrpc !== '2.0' || typeof msg.method !== 'string' || msg.method.length === 0) {
    throw new RampartError('ERR_REQUEST_INVALID_ENVELOPE');
  }
  if (msg.method.length > 256) throw new RampartError('ERR_REQUEST_INVALID_ENVELOPE');
  let id: JsonRpcId | undefined;
  if (Object.hasOwn(msg, 'id')) {
    const raw = msg.id;
    if (
      typeof raw === 'string' ? raw.length > 256 : !(typeof raw === 'number' && Number.isSafeInteger(raw))
    ) {
      throw new RampartError('ERR_REQUEST_INVALID_ENVELOPE');
    }
    id = raw as JsonRpcId;
  }
  const params = msg.params;
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
    throw new RampartError('ERR_REQUEST_INVALID_ENVELOPE');
  }
  for (const key of Object.keys(msg)) {
    if (key !== 'jsonrpc' && key !== 'method' && key !== 'id' && key !== 'params') {
      throw new RampartError('ERR_REQUEST_INVALID_ENVELOPE');
    }
  }
  return { id, method: msg.method, params: params as Record<string, unknown> | undefined };
}
