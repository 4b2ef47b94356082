/*
 * The value codec of the mirrored MCP headers (`Mcp-Name`, `Mcp-Param-{Name}`), MCP 2026-07-28
 * Streamable HTTP, "Value Encoding": a value is sent either as plain header-safe ASCII or as
 * `=?base64?{Base64 of its UTF-8}?=`. Both directions are strict so that each value has exactly one
 * accepted plain form and one accepted encoded form, and a header can never decode to something other
 * than what the client meant.
 */

const PREFIX = '=?base64?';
const SUFFIX = '?=';

/**
 * Canonical base64 (RFC 4648 §4): standard alphabet, padding required, no whitespace, and the unused
 * bits of the last character zero (§3.5), so that no two encodings decode to the same bytes.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$/;

// ignoreBOM: true keeps a leading U+FEFF, so `=?base64?77u/YQ==?=` decodes to "\uFEFFa", not "a".
const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ENCODER = new TextEncoder();

/**
 * Decodes an `Mcp-Name` or `Mcp-Param-{Name}` header value, as a server must before comparing it with
 * the request body (MCP 2026-07-28 Streamable HTTP, "Value Encoding" and "Server Validation").
 *
 * - A value that starts with `=?base64?` and ends with `?=` (markers case-sensitive) is the Base64
 *   sentinel: the text between the markers must be canonical, padded base64 of valid UTF-8.
 * - Any other value is plain: only visible ASCII, space and tab (RFC 9110 §5.5), and no leading or
 *   trailing space or tab. It is returned as is, so `=?BASE64?eA==?=` is the plain value itself.
 *
 * @param raw - The header value as received.
 * @returns The decoded value, or null when the value is malformed (the caller answers HeaderMismatch).
 * @example
 * decodeMcpHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?='); // 'Hello, 世界'
 * decodeMcpHeaderValue('us-west1'); // 'us-west1'
 * decodeMcpHeaderValue('=?base64?not base64?='); // null
 */
export function decodeMcpHeaderValue(raw: string): string | null {
  if (matchesSentinel(raw)) {
    // "=?base64?=" matches the pattern with overlapping markers; a client must have encoded it.
    if (raw.length < PREFIX.length + SUFFIX.length) return null;
    const encoded = raw.slice(PREFIX.length, raw.length - SUFFIX.length);
    if (!BASE64.test(encoded)) return null;
    const binary = atob(encoded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    try {
      return DECODER.decode(bytes);
    } catch {
      return null;
    }
  }
  return isPlainValue(raw) ? raw : null;
}

/**
 * Encodes a value for an `Mcp-Name` or `Mcp-Param-{Name}` header, as a client must: plain when it is
 * printable ASCII (0x20-0x7E) without leading or trailing space and does not itself look like the
 * sentinel; otherwise `=?base64?…?=` of its UTF-8. Tabs are encoded too (the spec asks for control
 * characters to be encoded, and a tab is one), though {@link decodeMcpHeaderValue} accepts them plain.
 *
 * A string with lone surrogates has no UTF-8 form: like any UTF-8 encoder, this encodes each as
 * U+FFFD, so the header will not match the body and a server refuses the request (fail closed).
 *
 * @param value - The value to send (integers and booleans already converted to their string form).
 * @returns The header value; it never contains anything but printable ASCII.
 * @example
 * encodeMcpHeaderValue(' padded '); // '=?base64?IHBhZGRlZCA=?='
 */
export function encodeMcpHeaderValue(value: string): string {
  if (isPrintableAscii(value) && !matchesSentinel(value)) return value;
  const bytes = ENCODER.encode(value);
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return `${PREFIX}${btoa(binary)}${SUFFIX}`;
}

function matchesSentinel(value: string): boolean {
  return value.startsWith(PREFIX) && value.endsWith(SUFFIX);
}

/** RFC 9110 §5.5 field-value: VCHAR, SP and HTAB, without leading or trailing whitespace. */
function isPlainValue(value: string): boolean {
  const last = value.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x21 && c <= 0x7e) continue;
    if ((c === 0x20 || c === 0x09) && i !== 0 && i !== last) continue;
    return false;
  }
  return true;
}

/** What a client may send plain: 0x20-0x7E only, no leading or trailing space. */
function isPrintableAscii(value: string): boolean {
  const last = value.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x21 && c <= 0x7e) continue;
    if (c === 0x20 && i !== 0 && i !== last) continue;
    return false;
  }
  return true;
}
