import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/error-codes.js';

// docs/errors.md is the reference for clients; this keeps its table in step with the code.
// Regenerate the table with: UPDATE_DOCS=1 npx vitest run test/docs-errors.test.ts
const file = new URL('../docs/errors.md', import.meta.url);
const table = [
  '| Code | HTTP | JSON-RPC | OAuth `error` | Message |',
  '| --- | --- | --- | --- | --- |',
  ...Object.entries(ERROR_CODES).map(
    ([code, info]) =>
      `| \`${code}\` | ${info.status} | ${info.rpc} | ${'oauth' in info ? `\`${info.oauth}\`` : ''} | ${info.message} |`,
  ),
].join('\n');

describe('docs/errors.md', () => {
  it('lists every error code with its status, JSON-RPC code, OAuth error and message', () => {
    let doc = readFileSync(file, 'utf8');
    const expected = doc.replace(
      /<!-- table:start -->[\s\S]*<!-- table:end -->/,
      `<!-- table:start -->\n${table}\n<!-- table:end -->`,
    );
    if (process.env.UPDATE_DOCS) {
      writeFileSync(file, expected);
      doc = expected;
    }
    expect(doc).toBe(expected);
  });
});
