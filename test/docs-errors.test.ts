import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/core/error-codes.js';

// docs/errors.md is the reference for clients; this keeps it in step with the code table.
const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const rows = new Map(
  [...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| (\d+) \| (-?\d+) \| ([^|]*) \|/gm)].map((m) => [
    m[1],
    { status: Number(m[2]), rpc: Number(m[3]), oauth: (m[4] ?? '').trim() },
  ]),
);

describe('docs/errors.md', () => {
  it.each(Object.entries(ERROR_CODES))('documents %s exactly', (code, info) => {
    expect(rows.get(code)).toEqual({
      status: info.status,
      rpc: info.rpc,
      oauth: 'oauth' in info ? `\`${info.oauth}\`` : '',
    });
  });
  it('documents no code that does not exist', () => {
    for (const code of rows.keys()) expect(Object.hasOwn(ERROR_CODES, code as string)).toBe(true);
  });
});
