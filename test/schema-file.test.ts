import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/cli/config.js';

// The shipped JSON Schema (for editors) must be exactly what the config schema emits.
// Regenerate with: UPDATE_SCHEMA=1 npx vitest run test/schema-file.test.ts
const file = new URL('../schema/rampart.schema.json', import.meta.url);

describe('schema/rampart.schema.json', () => {
  it('matches the configuration schema', () => {
    const expected = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_SCHEMA) writeFileSync(file, expected);
    expect(readFileSync(file, 'utf8')).toBe(expected);
  });
});
