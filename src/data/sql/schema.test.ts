import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildQuerySchema } from './schema.js';

const schema = buildQuerySchema(['users', 'orders'], ['id', 'name', 'product'], {
  maxLimit: 1000,
  defaultLimit: 100,
});

describe('buildQuerySchema', () => {
  it('emits a strict JSON Schema with enums for tables and columns and one shape per operator', () => {
    const json = z.toJSONSchema(schema, { io: 'input' }) as {
      additionalProperties: boolean;
      properties: Record<string, { enum?: string[]; maximum?: number; default?: number; maxItems?: number }>;
    };
    expect(json.additionalProperties).toBe(false);
    expect(json.properties.table?.enum).toEqual(['users', 'orders']);
    expect(json.properties.limit).toMatchObject({ minimum: 1, maximum: 1000, default: 100 });
    expect(json.properties.filters?.maxItems).toBe(20);
    const text = JSON.stringify(json);
    expect(text).toContain('"enum":["id","name","product"]');
    expect(text.match(/"additionalProperties":false/g)).toHaveLength(5);
  });

  it('applies the default limit and keeps filters optional', () => {
    expect(schema.parse({ table: 'users' })).toEqual({ table: 'users', limit: 100 });
  });

  it.each([
    { table: 'users', filters: [{ column: 'id', operator: 'in', value: [1, 'a'] }], limit: 1000 },
    { table: 'orders', filters: [{ column: 'name', operator: 'eq', value: null }] },
    { table: 'orders', filters: [{ column: 'name', operator: 'like', value: 'x'.repeat(1000) }] },
    {
      table: 'orders',
      filters: Array.from({ length: 20 }, () => ({ column: 'id', operator: 'gt', value: 1 })),
    },
  ])('accepts %#', (input) => {
    expect(schema.safeParse(input).success).toBe(true);
  });

  it.each([
    { table: 'secrets' },
    { table: 'users', limit: 0 },
    { table: 'users', limit: 1001 },
    { table: 'users', extra: true },
    { table: 'users', filters: [{ column: 'owner', operator: 'eq', value: 'bob' }] },
    { table: 'users', filters: [{ column: 'id', operator: 'lt', value: false }] },
    { table: 'users', filters: [{ column: 'id', operator: 'like', value: 1 }] },
    {
      table: 'users',
      filters: [{ column: 'id', operator: 'in', value: Array.from({ length: 101 }, () => 1) }],
    },
    { table: 'users', filters: [{ column: 'id', operator: 'eq', value: 'x'.repeat(1001) }] },
    { table: 'users', filters: [{ column: 'id', operator: 'eq', value: 1, or: true }] },
    {
      table: 'users',
      filters: Array.from({ length: 21 }, () => ({ column: 'id', operator: 'gt', value: 1 })),
    },
  ])('refuses %#', (input) => {
    expect(schema.safeParse(input).success).toBe(false);
  });
});
