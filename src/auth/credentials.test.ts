import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RampartError } from '../core/errors.js';
import { extractCredential } from './credentials.js';

const h = (entries: Record<string, string>) => new Headers(entries);

describe('extractCredential', () => {
  it.each([
    [{ authorization: 'Bearer abc.def.ghi' }, { kind: 'bearer', value: 'abc.def.ghi' }],
    [{ authorization: 'bearer abc' }, { kind: 'bearer', value: 'abc' }],
    [{ authorization: 'Bearer   padded  ' }, { kind: 'bearer', value: 'padded' }],
    [{ 'x-api-key': 'rmp_abc' }, { kind: 'api_key_header', value: 'rmp_abc' }],
  ])('reads %o', (headers, expected) => {
    expect(extractCredential(h(headers))).toEqual(expected);
  });

  it('returns undefined without credentials', () => {
    expect(extractCredential(h({}))).toBeUndefined();
  });

  it.each([
    [{ authorization: 'Bearer a', 'x-api-key': 'b' }, 'ERR_AUTH_MULTIPLE_CREDENTIALS'],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ authorization: 'Bearer' }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ authorization: 'Bearer a b' }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ authorization: 'Bearer a, Bearer b' }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ authorization: 'Bearer tok"en' }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ authorization: `Bearer ${'a'.repeat(20_000)}` }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ 'x-api-key': '' }, 'ERR_AUTH_INVALID_REQUEST'],
    [{ 'x-api-key': 'a b' }, 'ERR_AUTH_INVALID_REQUEST'],
  ])('refuses %o', (headers, code) => {
    expect(() => extractCredential(h(headers))).toThrowError(expect.objectContaining({ code }));
  });

  it('only ever returns a syntactically valid b64token or throws RampartError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.boolean(), (value, asApiKey) => {
        let headers: Headers;
        try {
          headers = h(asApiKey ? { 'x-api-key': value } : { authorization: value });
        } catch {
          return; // not a legal header value at all: fetch refuses it before we see it
        }
        try {
          const credential = extractCredential(headers);
          if (credential) expect(credential.value).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
        } catch (error) {
          expect(error).toBeInstanceOf(RampartError);
        }
      }),
    );
  });
});
