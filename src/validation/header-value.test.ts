import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMcpHeaderValue, encodeMcpHeaderValue } from './header-value.js';

// MCP 2026-07-28 Streamable HTTP, "Value Encoding", the table of encoding examples, verbatim.
const SPEC_EXAMPLES: [original: string, reason: string, header: string][] = [
  ['us-west1', 'Plain ASCII', 'Mcp-Param-Region: us-west1'],
  ['Hello, 世界', 'Contains non-ASCII', 'Mcp-Param-Greeting: =?base64?SGVsbG8sIOS4lueVjA==?='],
  [' padded ', 'Leading/trailing spaces', 'Mcp-Param-Text: =?base64?IHBhZGRlZCA=?='],
  ['line1\nline2', 'Contains newline', 'Mcp-Param-Text: =?base64?bGluZTEKbGluZTI=?='],
  ['=?base64?literal?=', 'Matches sentinel pattern', 'Mcp-Param-Val: =?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?='],
];

describe('the spec examples', () => {
  it.each(SPEC_EXAMPLES)('%j (%s) <-> %s', (original, _reason, header) => {
    const value = header.slice(header.indexOf(': ') + 2);
    expect(encodeMcpHeaderValue(original)).toBe(value);
    expect(decodeMcpHeaderValue(value)).toBe(original);
  });
});

describe('decodeMcpHeaderValue', () => {
  it.each<[string, string]>([
    ['get_weather', 'get_weather'],
    ['file:///projects/myapp/config.json', 'file:///projects/myapp/config.json'],
    ['a b', 'a b'],
    ['a\tb', 'a\tb'],
    ['~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./', '~!@#$%^&*()_+{}|:"<>?`-=[]\\;\',./'],
    ['', ''],
    ['=?base64??=', ''],
    ['=?base64?SGk=?=', 'Hi'],
    ['=?base64?dXMtd2VzdDE=?=', 'us-west1'],
    ['=?base64?77u/YQ==?=', '\ufeffa'], // a leading BOM is part of the value, not dropped
    ['=?base64?8J+YgA==?=', '😀'],
    ['=?base64?AA==?=', '\u0000'],
    // Not the sentinel (markers are case-sensitive and both must be there): plain values, as they are.
    ['=?BASE64?SGk=?=', '=?BASE64?SGk=?='],
    ['=?Base64?SGk=?=', '=?Base64?SGk=?='],
    ['=?base64?SGk=', '=?base64?SGk='],
    ['=?base64?', '=?base64?'],
    ['SGk=?=', 'SGk=?='],
    ['x=?base64?SGk=?=', 'x=?base64?SGk=?='],
    ['=?base64 SGk=?=', '=?base64 SGk=?='],
    ['=?utf-8?b?SGk=?=', '=?utf-8?b?SGk=?='],
  ])('%j -> %j', (raw, expected) => {
    expect(decodeMcpHeaderValue(raw)).toBe(expected);
  });

  it.each([
    // Plain values outside RFC 9110 field-value, or with surrounding whitespace.
    [' a'],
    ['a '],
    ['\ta'],
    ['a\t'],
    [' '],
    ['a\nb'],
    ['a\r\nb'],
    ['a\u0000b'],
    ['a\u0001'],
    ['a\u007fb'],
    ['é'],
    ['世界'],
    ['a\u00a0b'],
    // Sentinels whose content is not canonical, padded base64 of UTF-8.
    ['=?base64?SGk?='], // padding missing
    ['=?base64?SGVsbG8?='],
    ['=?base64?S?='],
    ['=?base64?SGk==?='],
    ['=?base64?SG=k?='],
    ['=?base64?=SGk?='],
    ['=?base64?SGk=SGk=?='],
    ['=?base64?SG k=?='],
    ['=?base64? SGk=?='],
    ['=?base64?SGk=\n?='],
    ['=?base64?-_8=?='], // base64url alphabet
    ['=?base64?SGl=?='], // non-zero unused bits: "Hi" is SGk=
    ['=?base64?YR==?='], // non-zero unused bits: "a" is YQ==
    ['=?base64?====?='],
    ['=?base64?/w==?='], // 0xFF
    ['=?base64?wIA=?='], // overlong NUL
    ['=?base64?7aCA?='], // UTF-8 encoded surrogate
    ['=?base64?4oI=?='], // truncated sequence
    ['=?base64?9JCAgA==?='], // above U+10FFFF
    ['=?base64?=?='], // content '=' is not base64
    ['=?base64?='], // the markers overlap: a client encodes this value
    ['=?base64?SGk=?= '], // trailing space after a sentinel: plain, and not allowed plain
  ])('%j -> null', (raw) => {
    expect(decodeMcpHeaderValue(raw)).toBeNull();
  });
});

describe('encodeMcpHeaderValue', () => {
  it.each<[string, string]>([
    ['us-west1', 'us-west1'],
    ['42', '42'],
    ['-7', '-7'],
    ['true', 'true'],
    ['a b', 'a b'],
    ['', ''],
    ['a\tb', '=?base64?YQli?='], // a tab is a control character: encoded
    ['a ', '=?base64?YSA=?='],
    ['\u007f', '=?base64?fw==?='],
    ['=?base64??=', '=?base64?PT9iYXNlNjQ/Pz0=?='],
    ['=?base64?=', '=?base64?PT9iYXNlNjQ/PQ==?='],
    ['=?BASE64?x?=', '=?BASE64?x?='],
    ['=?base64?x', '=?base64?x'],
  ])('%j -> %j', (value, expected) => {
    expect(encodeMcpHeaderValue(value)).toBe(expected);
    expect(decodeMcpHeaderValue(expected)).toBe(value);
  });

  it('encodes a lone surrogate as U+FFFD, so the header cannot match the body', () => {
    const header = encodeMcpHeaderValue('a\ud800');
    expect(header).toBe('=?base64?Ye+/vQ==?=');
    expect(decodeMcpHeaderValue(header)).toBe('a\ufffd');
  });
});

describe('properties', () => {
  const printable = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);
  const wellFormed = (s: string): boolean => !/[\ud800-\udfff]/u.test(s);
  const strings = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '=', '?', 'b', 'a', 's', 'e', '6', '4', 'é', '😀') }),
    // Values built to look like the sentinel, or nearly.
    fc
      .tuple(
        fc.constantFrom('=?base64?', '=?BASE64?', '=?base64', ''),
        fc.string(),
        fc.constantFrom('?=', '?', ''),
      )
      .map((parts) => parts.join('')),
  );

  it('decode(encode(s)) === s for any well-formed string, and the header is printable ASCII', () => {
    fc.assert(
      fc.property(strings.filter(wellFormed), (s) => {
        const header = encodeMcpHeaderValue(s);
        expect(printable(header)).toBe(true);
        expect(header).toBe(header.trim());
        expect(decodeMcpHeaderValue(header)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('a value is sent plain exactly when it is printable, unpadded and not sentinel-shaped', () => {
    fc.assert(
      fc.property(strings, (s) => {
        const plain = printable(s) && s === s.trim() && !(s.startsWith('=?base64?') && s.endsWith('?='));
        expect(encodeMcpHeaderValue(s) === s).toBe(plain);
      }),
      { numRuns: 2000 },
    );
  });

  it('any header decodes to null or to a value that re-encodes to an accepted header for it', () => {
    const headers = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary-ascii' }),
      fc.base64String().map((b) => `=?base64?${b}?=`),
      fc
        .string({
          unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='),
        })
        .map((b) => `=?base64?${b}?=`),
    );
    fc.assert(
      fc.property(headers, (raw) => {
        const value = decodeMcpHeaderValue(raw);
        if (value === null) return;
        expect(decodeMcpHeaderValue(encodeMcpHeaderValue(value))).toBe(value);
        // A sentinel decodes to exactly the bytes it carries: re-encoding gives the same base64.
        if (raw.startsWith('=?base64?') && raw.endsWith('?=')) {
          expect(`=?base64?${btoa(String.fromCharCode(...new TextEncoder().encode(value)))}?=`).toBe(raw);
        } else {
          expect(value).toBe(raw);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
