import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from './define-tool.js';
import { describeIssues } from './issues.js';
import { toToolResult } from './result.js';
import { findUnknownKey } from './unknown-keys.js';

const handler = () => 'ok';

describe('defineTool', () => {
  it('derives a closed JSON Schema and annotations once', () => {
    const tool = defineTool({
      name: 'echo',
      description: 'd',
      scope: 'mcp:read',
      readOnly: true,
      input: z.object({ text: z.string().max(10) }),
      handler,
    });
    expect(tool.inputSchema).toEqual({
      type: 'object',
      properties: { text: { type: 'string', maxLength: 10 } },
      required: ['text'],
      additionalProperties: false,
    });
    expect(tool.descriptor).toMatchObject({ name: 'echo', annotations: { readOnlyHint: true } });
  });

  it.each([
    [{ name: 'bad name!', scope: 'mcp:read', input: z.object({}) }, /not allowed/],
    [{ name: 'x', scope: '', input: z.object({}) }, /scope is required/],
    [{ name: 'x', scope: 'mcp:read', input: z.string() }, /object schema/],
  ])('refuses a bad definition %#', (opts, message) => {
    expect(() => defineTool({ description: 'd', handler, ...opts } as never)).toThrow(message);
  });
});

describe('findUnknownKey', () => {
  const schema = z.object({
    a: z.string().optional(),
    nested: z.object({ b: z.number() }).optional(),
    list: z.array(z.object({ c: z.string() })).default([]),
    loose: z.looseObject({ d: z.string() }).optional(),
  });
  it.each([
    [{ a: 'x' }, undefined],
    [{ a: 'x', extra: 1 }, []],
    [{ nested: { b: 1, extra: 1 } }, ['nested']],
    [{ list: [{ c: 'x' }, { c: 'y', z: 1 }] }, ['list', 1]],
    [{ loose: { d: 'x', anything: 1 } }, undefined],
    [{ __proto__: { polluted: true } }, undefined],
  ])('%j -> %j', (value, expected) => {
    expect(findUnknownKey(schema, value)).toEqual(expected);
  });
});

describe('describeIssues', () => {
  it('names paths and expectations without echoing input', () => {
    const schema = z.object({ table: z.enum(['users', 'orders']), limit: z.number().max(1000) });
    const result = schema.safeParse({ table: "users'; DROP TABLE users; --", limit: 5000 });
    const message = describeIssues(result.error?.issues ?? []);
    expect(message).toBe(
      'Invalid arguments: table: must be one of "users", "orders"; limit: must be <= 1000',
    );
    expect(message).not.toContain('DROP');
  });
  it('replaces non-identifier path segments', () => {
    const schema = z.record(z.string(), z.number());
    const result = schema.safeParse({ "<script>'": 'x' });
    expect(describeIssues(result.error?.issues ?? [])).toBe('Invalid arguments: ?: expected number');
  });
});

describe('toToolResult', () => {
  const everyBlock = {
    content: [
      { type: 'image', data: 'AA==', mimeType: 'image/png' },
      { type: 'audio', data: 'AA==', mimeType: 'audio/wav' },
      { type: 'resource_link', uri: 'a://b', name: 'b' },
      { type: 'resource', resource: { uri: 'a://b', text: 't' } },
    ],
    structuredContent: { n: 1 },
  };
  it.each([
    ['text', 'hi', { content: [{ type: 'text', text: 'hi' }] }],
    ['object', { a: 1 }, { content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 1 } }],
    ['array', [1, 2], { content: [{ type: 'text', text: '[1,2]' }] }],
    [
      'result',
      { content: [{ type: 'text', text: 'x' }], isError: true },
      { content: [{ type: 'text', text: 'x' }], isError: true },
    ],
    ['result with every kind of block', everyBlock, everyBlock],
    // Not results, though they have `content`: data, which the client can take.
    [
      'a row with a content column',
      { id: 1, content: [1, null] },
      {
        content: [{ type: 'text', text: '{"id":1,"content":[1,null]}' }],
        structuredContent: { id: 1, content: [1, null] },
      },
    ],
    [
      'a block of an unknown type',
      { content: [{ type: 'evil' }] },
      {
        content: [{ type: 'text', text: '{"content":[{"type":"evil"}]}' }],
        structuredContent: { content: [{ type: 'evil' }] },
      },
    ],
    [
      'structuredContent that is not an object',
      { content: [], structuredContent: 42 },
      {
        content: [{ type: 'text', text: '{"content":[],"structuredContent":42}' }],
        structuredContent: { content: [], structuredContent: 42 },
      },
    ],
    ['a number', 42, { content: [{ type: 'text', text: '42' }] }],
    ['a boolean', true, { content: [{ type: 'text', text: 'true' }] }],
    ['null', null, { content: [{ type: 'text', text: 'null' }] }],
    ['nothing', undefined, { content: [] }],
  ])('%s', (_n, value, expected) => {
    expect(toToolResult(value as never)).toEqual(expected);
  });
});

describe('toToolResult refuses what is no value', () => {
  it('a function (its text would be its source) or a symbol: a handler bug, answered as a failure', () => {
    expect(() => toToolResult((() => 'postgres://admin:s3cret@db') as never)).toThrow(/returned a function/);
    expect(() => toToolResult(Symbol('x') as never)).toThrow(/returned a symbol/);
  });
});
