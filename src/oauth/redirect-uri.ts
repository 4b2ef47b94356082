/** Hosts whose `http` redirects are allowed: the client runs on the user's machine (RFC 8252 §7.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** A loopback redirect, split so that only its port may vary. Case and spelling are compared raw. */
const LOOPBACK_REDIRECT = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?(\/[^#]*)?$/;
/** Schemes that run code or read local data in a browser: never a redirect target. */
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'blob:',
  'about:',
  'filesystem:',
]);
/** A private-use scheme (RFC 8252 §7.1) is a reverse domain name: it has a dot. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/;

/**
 * Why a redirect URI may not be registered, or undefined when it may. Rules: an absolute URL of at
 * most 2048 characters with no fragment and no user info; `https`, `http` only to a loopback host,
 * or a private-use scheme with a dot (`com.example.app:/callback`). Dangerous schemes never pass.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > 2048) return 'must be 1 to 2048 characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URL';
  }
  if (uri.includes('#')) return 'must not have a fragment';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return 'uses a forbidden scheme';
  if (url.username || url.password) return 'must not carry user info';
  // Encoded dot segments and backslashes would let a lenient client land somewhere else.
  if (/%2e|%2f|%5c|\\/i.test(uri)) return 'must not contain encoded dots, slashes or backslashes';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'must name a host';
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.host.replace(/:\d+$/, ''))
      ? undefined
      : 'http is allowed only for loopback hosts';
  }
  return PRIVATE_USE_SCHEME.test(url.protocol)
    ? undefined
    : 'must be https, loopback http or a private-use scheme';
}

/**
 * Whether a requested redirect URI matches a registered one: exactly, character for character, or
 * for a loopback `http` URI, exactly but for the port (RFC 8252 §7.3, OAuth 2.1 §4.1.1).
 */
export function redirectUriMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  const a = LOOPBACK_REDIRECT.exec(requested);
  const b = LOOPBACK_REDIRECT.exec(registered);
  if (!a || !b) return false;
  return a[1] === b[1] && (a[3] ?? '') === (b[3] ?? '') && isPort(a[2]) && isPort(b[2]);
}

function isPort(port: string | undefined): boolean {
  return port === undefined || (Number(port) > 0 && Number(port) < 65_536);
}

/** The registered URI a request names, if any. */
export function findRedirectUri(requested: string, registered: readonly string[]): string | undefined {
  return registered.some((r) => redirectUriMatches(requested, r)) ? requested : undefined;
}
