/** Signature algorithms with public verification keys (RFC 7518 §3.1, RFC 8037): never `none` or HS*. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** What an issuer accepts when its configuration names no algorithms. */
export const DEFAULT_JWT_ALGORITHMS: readonly (typeof JWT_ALGORITHMS)[number][] = [
  'RS256',
  'ES256',
  'PS256',
  'EdDSA',
];
