import type { ToolResult, ToolReturn } from './define-tool.js';

/** Normalises what a handler returned into an MCP tool result. */
export function toToolResult(value: ToolReturn): ToolResult {
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
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
  return Array.isArray((value as { content?: unknown }).content);
}

/**
 * Thrown by a handler to fail with a message the client may see (as a tool error). Any other
 * exception becomes a generic failure with the request id; its details reach only the server log.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
}
