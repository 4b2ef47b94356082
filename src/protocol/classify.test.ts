import { describe, expect, it } from 'vitest';
import { classifyRequest } from './classify.js';
import type { JsonRpcMessage } from './envelope.js';

const meta = (version = '2026-07-28') => ({
  'io.modelcontextprotocol/protocolVersion': version,
  'io.modelcontextprotocol/clientCapabilities': {},
});
const h = (entries: Record<string, string>) => new Headers(entries);
const call = (name: string, extra: Record<string, unknown> = {}): JsonRpcMessage => ({
  id: 1,
  method: 'tools/call',
  params: { name, arguments: {}, ...extra },
});
const modernHeaders = {
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
};

describe('classifyRequest: modern requests', () => {
  it('accepts a request whose headers mirror the body', () => {
    expect(classifyRequest(call('echo', { _meta: meta() }), h(modernHeaders), true)).toEqual({
      era: 'modern',
      version: '2026-07-28',
    });
  });

  it('decodes the base64 sentinel form of Mcp-Name', () => {
    const name = 'héllo';
    const encoded = `=?base64?${Buffer.from(name).toString('base64')}?=`;
    const headers = h({ ...modernHeaders, 'mcp-name': encoded });
    expect(classifyRequest(call(name, { _meta: meta() }), headers, true).era).toBe('modern');
  });

  it.each([
    ['Mcp-Name differs', { ...modernHeaders, 'mcp-name': 'other' }, 'ERR_PROTOCOL_HEADER_MISMATCH'],
    [
      'Mcp-Name missing',
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' },
      'ERR_PROTOCOL_HEADER_MISMATCH',
    ],
    ['Mcp-Method differs', { ...modernHeaders, 'mcp-method': 'tools/list' }, 'ERR_PROTOCOL_HEADER_MISMATCH'],
    [
      'Mcp-Method missing',
      { 'mcp-protocol-version': '2026-07-28', 'mcp-name': 'echo' },
      'ERR_PROTOCOL_HEADER_MISMATCH',
    ],
    [
      'version header missing',
      { 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
      'ERR_PROTOCOL_HEADER_MISMATCH',
    ],
    [
      'version header differs',
      { ...modernHeaders, 'mcp-protocol-version': '2025-11-25' },
      'ERR_PROTOCOL_HEADER_MISMATCH',
    ],
    [
      'malformed sentinel',
      { ...modernHeaders, 'mcp-name': '=?base64?%%%?=' },
      'ERR_PROTOCOL_HEADER_MISMATCH',
    ],
    ['name case differs', { ...modernHeaders, 'mcp-name': 'ECHO' }, 'ERR_PROTOCOL_HEADER_MISMATCH'],
  ])('refuses when %s', (_n, headers, code) => {
    expect(() => classifyRequest(call('echo', { _meta: meta() }), h(headers), true)).toThrowError(
      expect.objectContaining({ code }),
    );
  });

  it('answers an unknown version with the supported list', () => {
    const headers = { ...modernHeaders, 'mcp-protocol-version': '1900-01-01' };
    try {
      classifyRequest(call('echo', { _meta: meta('1900-01-01') }), h(headers), true);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'ERR_PROTOCOL_UNSUPPORTED_VERSION',
        info: { rpc: -32022, status: 400 },
        data: {
          supported: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'],
          requested: '1900-01-01',
        },
      });
    }
  });

  it('refuses a modern request without clientCapabilities (-32602)', () => {
    const msg = call('echo', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } });
    expect(() => classifyRequest(msg, h(modernHeaders), true)).toThrowError(
      expect.objectContaining({ code: 'ERR_PROTOCOL_MISSING_META' }),
    );
  });

  it('refuses a modern version header on a body without _meta', () => {
    expect(() => classifyRequest(call('echo'), h(modernHeaders), true)).toThrowError(
      expect.objectContaining({ code: 'ERR_PROTOCOL_MISSING_META' }),
    );
  });
});

describe('classifyRequest: legacy requests', () => {
  it('treats initialize as legacy', () => {
    const msg: JsonRpcMessage = { id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } };
    expect(classifyRequest(msg, h({}), true).era).toBe('legacy');
  });

  it('defaults a request without a version header to 2025-03-26', () => {
    expect(classifyRequest(call('echo'), h({}), true)).toEqual({ era: 'legacy', version: '2025-03-26' });
  });

  it('accepts legacy mirrored headers that agree with the body', () => {
    const headers = { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
    expect(classifyRequest(call('echo'), h(headers), true)).toEqual({ era: 'legacy', version: '2025-11-25' });
  });

  it('refuses a legacy request whose Mcp-Name names another tool than the body runs', () => {
    const headers = { 'mcp-protocol-version': '2025-11-25', 'mcp-name': 'harmless_tool' };
    expect(() => classifyRequest(call('purge_all'), h(headers), true)).toThrowError(
      expect.objectContaining({ code: 'ERR_PROTOCOL_HEADER_MISMATCH' }),
    );
  });

  it('refuses legacy traffic when legacy is disabled', () => {
    expect(() =>
      classifyRequest(call('echo'), h({ 'mcp-protocol-version': '2025-11-25' }), false),
    ).toThrowError(expect.objectContaining({ code: 'ERR_PROTOCOL_UNSUPPORTED_VERSION' }));
  });

  it('refuses an unknown legacy version header', () => {
    expect(() =>
      classifyRequest(call('echo'), h({ 'mcp-protocol-version': '2024-01-01' }), true),
    ).toThrowError(expect.objectContaining({ code: 'ERR_PROTOCOL_UNSUPPORTED_VERSION' }));
  });
});

describe('classifyRequest: initialize', () => {
  it('treats an initialize carrying modern _meta as a modern request (answered 404 by the dispatcher)', () => {
    const msg: JsonRpcMessage = { id: 1, method: 'initialize', params: { _meta: meta() } };
    const headers = h({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'initialize' });
    expect(classifyRequest(msg, headers, true)).toEqual({ era: 'modern', version: '2026-07-28' });
  });
});
