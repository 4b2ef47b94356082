export {
  type ArgumentPolicy,
  defineTool,
  type Tool,
  type ToolContent,
  type ToolContext,
  type ToolOptions,
  type ToolResult,
  type ToolReturn,
} from './define-tool.js';
export { describeIssues } from './issues.js';
export { ToolError, toolError, toToolResult } from './result.js';
export { findUnknownKey } from './unknown-keys.js';
