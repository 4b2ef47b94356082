import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RampartError } from '../core/errors.js';
import { parseEnvelope } from './envelope.js';

describe('parseEnvelope', () => {
  it.each([
    ['request', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { id: 1, method: 'tools/list' }],
    ['string id', { jsonrpc: '2.0', id: 'a', method: 'ping', params: {} }, { id: 'a', method: 'ping' }],
    ['notification', { jsonrpc: '2.0', method: 'notifications/initialized' }, { id: undefined }],
  ])('accepts a %s', (_name, input, expected) => {
    expect(parseEnvelope(input)).toMatchObject(expected);
  });

  it.each([
    ['batch', [{ jsonrpc: '2.0', id: 1, method: 'ping' }], 'ERR_REQUEST_BATCH_UNSUPPORTED'],
    ['empty batch', [], 'ERR_REQUEST_BATCH_UNSUPPORTED'],
    ['null', null, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['string', 'x', 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['wrong version', { jsonrpc: '1.0', id: 1, method: 'ping' }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['no method', { jsonrpc: '2.0', id: 1 }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['numeric method', { jsonrpc: '2.0', id: 1, method: 5 }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['null id', { jsonrpc: '2.0', id: null, method: 'ping' }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['float id', { jsonrpc: '2.0', id: 1.5, method: 'ping' }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['object id', { jsonrpc: '2.0', id: {}, method: 'ping' }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['array params', { jsonrpc: '2.0', id: 1, method: 'ping', params: [] }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['null params', { jsonrpc: '2.0', id: 1, method: 'ping', params: null }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['a response', { jsonrpc: '2.0', id: 1, result: {} }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['extra member', { jsonrpc: '2.0', id: 1, method: 'ping', result: {} }, 'ERR_REQUEST_INVALID_ENVELOPE'],
    ['huge method', { jsonrpc: '2.0', id: 1, method: 'x'.repeat(300) }, 'ERR_REQUEST_INVALID_ENVELOPE'],
  ])('refuses %s', (_name, input, code) => {
    expect(() => parseEnvelope(input)).toThrowError(expect.objectContaining({ code }));
  });

  it('never throws anything but RampartError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseEnvelope(value);
        } catch (error) {
          expect(error).toBeInstanceOf(RampartError);
        }
      }),
    );
  });
});
