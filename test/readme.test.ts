import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveConfig } from '../src/config/index.js';

// Every configuration example in the README and docs/oauth.md is valid against the schema.
const files = ['README.md', 'docs/oauth.md'];

describe.each(files)('configuration examples in %s', (file) => {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

  it('has examples', () => expect(blocks.length).toBeGreaterThan(0));

  it.each(blocks.map((b, i) => [i, b] as const))('example %i is valid', (_i, block) => {
    expect(() => resolveConfig(parse(block))).not.toThrow();
  });
});
