import { readBody } from '../validation/body.js';
import { OAuthError, type OAuthErrorCode } from './errors.js';

/** A JSON body, never cached (RFC 6749 §5.1: `Cache-Control: no-store` on token responses). */
export function oauthJson(
  body: unknown,
  status: number,
  baseHeaders: Readonly<Record<string, string>>,
  extra: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...baseHeaders,
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...extra,
    },
  });
}

/**
 * The one mapper from errors to OAuth error responses (RFC 6749 §5.2). An {@link OAuthError}
 * gives its code and description; anything else is a `server_error` with no detail but the
 * request id, when given.
 */
export function oauthErrorResponse(
  error: unknown,
  baseHeaders: Readonly<Record<string, string>>,
  requestId?: string,
): Response {
  if (error instanceof OAuthError && !(requestId && error.status >= 500)) {
    const extra: Record<string, string> =
      error.error === 'invalid_client' && error.status === 401
        ? { 'www-authenticate': 'Basic realm="rampart"' }
        : {};
    return oauthJson(
      { error: error.error, error_description: error.message },
      error.status,
      baseHeaders,
      extra,
    );
  }
  // The request id is the one in the server log's line for this failure.
  const description = requestId ? `internal error (request id ${requestId})` : 'internal error';
  return oauthJson({ error: 'server_error', error_description: description }, 500, baseHeaders);
}

/** Reads an `application/x-www-form-urlencoded` body with a size cap; repeated parameters are refused (RFC 6749 §3.1). */
export async function readForm(request: Request, maxBytes = 16_384): Promise<Map<string, string>> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return uniqueParams(new URLSearchParams(await readCappedText(request, maxBytes, 'invalid_request')));
}

/**
 * A request (or upstream response) body as UTF-8 text, read as a stream and refused past `maxBytes` (a chunked body is
 * never buffered whole first), or when it is not valid UTF-8.
 */
export async function readCappedText(
  request: Pick<Request, 'headers' | 'body' | 'arrayBuffer'>,
  maxBytes: number,
  error: OAuthErrorCode,
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readBody(request, maxBytes);
  } catch (cause) {
    throw new OAuthError(error, 'the body is too large or malformed', { cause });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new OAuthError(error, 'the body is not UTF-8', { cause });
  }
}

/** Parameters as a map; a parameter given twice is an error (RFC 6749 §3.1, §3.2). */
export function uniqueParams(params: URLSearchParams): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of params) {
    if (out.has(key)) throw new OAuthError('invalid_request', `the parameter ${safeName(key)} is repeated`);
    out.set(key, value);
  }
  return out;
}

/** A parameter name fit to quote in a description: the known ones only. */
export function safeName(name: string): string {
  return /^[a-z_]{1,32}$/.test(name) ? name : '(unknown)';
}
