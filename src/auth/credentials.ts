import { RampartError } from '../core/errors.js';
import type { Credential } from './verifier.js';

// RFC 6750 §2.1 b64token, and an upper bound well above any real token (JWT caps are checked later).
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_CREDENTIAL_CHARS = 16_384;

/**
 * Finds the one credential of a request: `Authorization: Bearer <token>` or `X-API-Key: <key>`.
 * Credentials in the query string are never read (RFC 6750 §2.3 is not supported, on purpose:
 * URLs end up in logs and browser history).
 *
 * @returns the credential, or `undefined` when none was sent.
 * @throws RampartError `ERR_AUTH_MULTIPLE_CREDENTIALS` when both headers are present,
 *   `ERR_AUTH_INVALID_REQUEST` for another scheme or a malformed value.
 */
export function extractCredential(headers: { get(name: string): string | null }): Credential | undefined {
  const authorization = headers.get('authorization');
  const apiKey = headers.get('x-api-key');
  if (authorization !== null && apiKey !== null) throw new RampartError('ERR_AUTH_MULTIPLE_CREDENTIALS');
  if (apiKey !== null) {
    const value = apiKey.trim();
    if (!value || value.length > MAX_CREDENTIAL_CHARS || !B64TOKEN.test(value)) {
      throw new RampartError('ERR_AUTH_INVALID_REQUEST');
    }
    return { kind: 'api_key_header', value };
  }
  if (authorization === null) return undefined;
  // Fetch's Headers joins repeated headers with ", ": two Authorization headers fail the syntax check.
  const space = authorization.indexOf(' ');
  const scheme = space < 0 ? authorization : authorization.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') throw new RampartError('ERR_AUTH_INVALID_REQUEST');
  const value = authorization.slice(space + 1).trim();
  if (space < 0 || !value || value.length > MAX_CREDENTIAL_CHARS || !B64TOKEN.test(value)) {
    throw new RampartError('ERR_AUTH_INVALID_REQUEST');
  }
  return { kind: 'bearer', value };
}
