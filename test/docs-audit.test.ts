import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENTS, AUDIT_FIELDS } from '../src/audit/record.js';

// docs/audit.md lists every audit event and field; this keeps it in step with the code.
// Regenerate with: UPDATE_DOCS=1 npx vitest run test/docs-audit.test.ts
const file = new URL('../docs/audit.md', import.meta.url);
const events = [
  '| Event | Meaning |',
  '| --- | --- |',
  ...Object.entries(AUDIT_EVENTS).map(([name, meaning]) => `| \`${name}\` | ${meaning} |`),
].join('\n');
const fields = [
  '| Field | Meaning |',
  '| --- | --- |',
  ...Object.entries(AUDIT_FIELDS).map(([name, meaning]) => `| \`${name}\` | ${meaning} |`),
].join('\n');

describe('docs/audit.md', () => {
  it('lists every audit event and field', () => {
    let doc = readFileSync(file, 'utf8');
    const expected = doc
      .replace(
        /<!-- events:start -->[\s\S]*<!-- events:end -->/,
        `<!-- events:start -->\n${events}\n<!-- events:end -->`,
      )
      .replace(
        /<!-- fields:start -->[\s\S]*<!-- fields:end -->/,
        `<!-- fields:start -->\n${fields}\n<!-- fields:end -->`,
      );
    if (process.env.UPDATE_DOCS) {
      writeFileSync(file, expected);
      doc = expected;
    }
    expect(doc).toBe(expected);
  });
});
