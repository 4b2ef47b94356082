import { describe, expect, it } from 'vitest';
import { buildBearerChallenge } from './challenge.js';
import { resourceMetadataUrl } from './resource-metadata.js';

describe('buildBearerChallenge', () => {
  it('omits error when no credential was presented (RFC 6750 §3.1)', () => {
    expect(
      buildBearerChallenge({
        resourceMetadataUrl: 'https://h/.well-known/oauth-protected-resource/mcp',
        scopes: ['mcp:read'],
      }),
    ).toBe('Bearer scope="mcp:read", resource_metadata="https://h/.well-known/oauth-protected-resource/mcp"');
  });
  it('escapes quotes and backslashes and drops control characters', () => {
    expect(
      buildBearerChallenge({
        resourceMetadataUrl: 'u',
        error: 'invalid_token',
        errorDescription: 'a"b\\c\r\nd',
      }),
    ).toBe('Bearer error="invalid_token", error_description="a\\"b\\\\cd", resource_metadata="u"');
  });
});

describe('resourceMetadataUrl', () => {
  it.each([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'],
    ['https://mcp.example.com/', 'https://mcp.example.com/.well-known/oauth-protected-resource'],
    ['http://127.0.0.1:8787/a/b', 'http://127.0.0.1:8787/.well-known/oauth-protected-resource/a/b'],
  ])('%s -> %s', (resource, expected) => {
    expect(resourceMetadataUrl(new URL(resource))).toBe(expected);
  });
});
