import type { ToolResult, ToolReturn } from './define-tool.js';

/**
 * Normalises what a handler returned into an MCP tool result. A value is taken as a finished result
 * only when it is one (every `content` item a content block, `structuredContent` an object); any
 * other object is data, even one with a `content` field (a database row, say): sent as structured
 * content with its JSON as text, never as a result the client would reject.
 */
export function toToolResult(value: ToolReturn): ToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  // Outside the handler's type, but JavaScript allows it: nothing, or a bare number or boolean.
  if (value === undefined) return { content: [] };
  const type = typeof value;
  if (value === null || type === 'number' || type === 'boolean' || type === 'bigint')
    return { content: [{ type: 'text', text: String(value) }] };
  // A function's text is its source: a handler bug, answered as a failure with the request id.
  if (type !== 'object') throw new TypeError(`the handler returned a ${type}`);
  if (Array.isArray(value)) return { content: [{ type: 'text', text: JSON.stringify(value) }] };
  if (isToolResult(value)) return value;
  // A plain object: structured content, with its JSON as text for clients that read text only.
  return {
    content: [{ type: 'text', text: JSON.stringify(value) }],
    structuredContent: value as Record<string, unknown>,
  };
}

/** A tool error the model can read (`isError: true`), per MCP "Error Handling" for tools. */
export function toolError(text: string): ToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function isToolResult(value: object): value is ToolResult {
  const { content, structuredContent, isError } = value as Record<string, unknown>;
  return (
    Array.isArray(content) &&
    content.every(isContentBlock) &&
    (structuredContent === undefined || isObject(structuredContent)) &&
    (isError === undefined || typeof isError === 'boolean')
  );
}

/** Whether an item is one of MCP's content blocks, with the fields its type requires. */
function isContentBlock(item: unknown): boolean {
  if (!isObject(item)) return false;
  switch (item.type) {
    case 'text':
      return typeof item.text === 'string';
    case 'image':
    case 'audio':
      return typeof item.data === 'string' && typeof item.mimeType === 'string';
    case 'resource_link':
      return typeof item.uri === 'string' && typeof item.name === 'string';
    case 'resource': {
      const r = item.resource;
      return (
        isObject(r) && typeof r.uri === 'string' && (typeof r.text === 'string' || typeof r.blob === 'string')
      );
    }
    default:
      return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Thrown by a handler to fail with a message the client may see (as a tool error). Any other
 * exception becomes a generic failure with the request id; its details reach only the server log.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}
