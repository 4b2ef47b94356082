/** Headers on every response: no sniffing, no caching of anything authenticated, no referrer. */
export function securityHeaders(hstsMaxAgeSeconds: number | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  };
  if (hstsMaxAgeSeconds !== undefined) {
    headers['strict-transport-security'] = `max-age=${hstsMaxAgeSeconds}; includeSubDomains`;
  }
  return headers;
}
