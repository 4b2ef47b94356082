import { describe, expect, it } from 'vitest';
import { acceptsJson, isJsonContentType } from './media-type.js';

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON; charset=utf-8', true],
    ['application/json;charset="UTF-8"', true],
    ['application/json; charset=latin1', false],
    ['text/plain', false],
    ['application/jsonx', false],
    [null, false],
  ])('%s -> %s', (value, expected) => expect(isJsonContentType(value)).toBe(expected));
});

describe('acceptsJson', () => {
  it.each([
    ['application/json, text/event-stream', true],
    ['*/*', true],
    ['application/*', true],
    [null, true],
    ['text/event-stream', false],
    ['text/html', false],
    ['application/json;q=0', false],
  ])('%s -> %s', (value, expected) => expect(acceptsJson(value)).toBe(expected));
});
