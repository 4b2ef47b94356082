// The tool every Rampart contender serves: echo, scope mcp:read. Imports Rampart from dist/.
import { z } from 'zod';
import { defineTool } from '../dist/index.js';

export const echo = defineTool({
  name: 'echo',
  description: 'Echoes text',
  scope: 'mcp:read',
  input: z.object({ text: z.string().max(1000) }),
  handler: ({ text }) => text,
});
