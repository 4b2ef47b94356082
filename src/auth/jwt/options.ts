import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS } from './algorithms.js';

/** One trusted issuer of JWT access tokens (RFC 9068). */
export interface JwtIssuerOptions {
  /** The exact `iss` value of its tokens (RFC 8414 issuer identifier). */
  issuer: string;
  /** HTTPS URL of its JWKS (plain HTTP only on loopback). One of `jwksUrl`, `jwksFile`, `jwks`. */
  jwksUrl?: string;
  /** Path to a JWKS JSON file: read at construction, re-read for an unknown `kid` at the cooldown rate. */
  jwksFile?: string;
  /** Inline public keys, for tests. */
  jwks?: { keys: JsonWebKey[] };
  /** A key resolver in this process: the embedded authorization server's, which rotates keys. */
  getKey?: JWTVerifyGetKey;
  /**
   * An extra check after the signature and claims: `true` refuses the token (reason `revoked`).
   * The embedded authorization server refuses tokens of revoked grants this way.
   */
  isRevoked?: (payload: JWTPayload) => boolean | Promise<boolean>;
  /**
   * Accepted `alg` values, checked before any key is resolved (default `['RS256','ES256','PS256','EdDSA']`).
   * `none` and the shared-secret `HS*` algorithms are refused at construction.
   */
  algorithms?: string[];
  /** This server's canonical resource URI (RFC 8707); `aud` must contain it, compared exactly. */
  audience: string;
  /** Required `typ` header, case-insensitive (default `at+jwt`, RFC 9068 §2.1); `false` accepts any. */
  requiredTyp?: string | false;
  /** Claim holding space-separated scopes (default `scope`; with the default, `scp` is read too). */
  scopeClaim?: string;
  /** Claim holding roles, e.g. `roles` or `cognito:groups` (array or space-separated string). */
  rolesClaim?: string;
  /** Claims naming the OAuth client, first string found wins (default `['client_id', 'azp']`). */
  clientIdClaims?: string[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds (default 30, at most 60). */
  clockToleranceSeconds?: number;
}

/** Options of `createJwtVerifier`. */
export interface JwtVerifierOptions {
  /** The trusted issuers; a token naming any other `iss` is refused. */
  issuers: JwtIssuerOptions[];
  /** Longer tokens are refused before any parsing (default 8192 bytes). */
  maxTokenBytes?: number;
  /** Verified-token cache: most entries (default 10 000; 0 disables) and lifetime cap (default 60 s). */
  cache?: { maxEntries?: number; maxTtlSeconds?: number };
  /** JWKS HTTP timeout (default 5000 ms). */
  jwksTimeoutMs?: number;
  /** Least time between JWKS refetches for an unknown `kid`, and after a failed fetch (default 30 000 ms). */
  jwksCooldownMs?: number;
  /** The `fetch` used for JWKS URLs (default the global `fetch`). */
  fetch?: typeof fetch;
  /** The clock, in epoch ms (default `Date.now`). */
  now?: () => number;
}

/** Where one issuer's keys come from, after validation. */
export type KeySourceSpec =
  | { readonly kind: 'url'; readonly url: URL }
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'inline'; readonly jwks: { keys: JsonWebKey[] } }
  | { readonly kind: 'resolver'; readonly getKey: JWTVerifyGetKey };

/** An issuer's options with defaults applied and checked. */
export interface ResolvedIssuer {
  readonly path: string;
  readonly issuer: string;
  readonly audience: string;
  readonly keys: KeySourceSpec;
  readonly algorithms: readonly string[];
  readonly requiredTyp: string | false;
  readonly scopeClaim: string;
  readonly rolesClaim: string | undefined;
  readonly clientIdClaims: readonly string[];
  readonly toleranceSeconds: number;
  readonly isRevoked?: ((payload: JWTPayload) => boolean | Promise<boolean>) | undefined;
}

const ASYMMETRIC: ReadonlySet<string> = new Set(JWT_ALGORITHMS);
const DEFAULT_ALGORITHMS: readonly string[] = DEFAULT_JWT_ALGORITHMS;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const ROOT = 'auth.jwt';

/**
 * Applies defaults to one issuer and checks it.
 *
 * @throws ConfigError naming the bad setting (`auth.jwt.issuers[0].algorithms`, …).
 */
export function resolveIssuer(options: JwtIssuerOptions, index: number): ResolvedIssuer {
  const path = `${ROOT}.issuers[${index}]`;
  if (typeof options.issuer !== 'string' || options.issuer === '')
    throw new ConfigError(`${path}.issuer`, 'must be a non-empty string');
  if (typeof options.audience !== 'string' || options.audience === '')
    throw new ConfigError(`${path}.audience`, 'must be the resource URI of this server');
  const requiredTyp = options.requiredTyp ?? 'at+jwt';
  if (requiredTyp !== false && (typeof requiredTyp !== 'string' || requiredTyp === ''))
    throw new ConfigError(`${path}.requiredTyp`, 'must be a non-empty string or false');
  const toleranceSeconds = options.clockToleranceSeconds ?? 30;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0 || toleranceSeconds > 60)
    throw new ConfigError(`${path}.clockToleranceSeconds`, 'must be between 0 and 60 seconds');
  const clientIdClaims = options.clientIdClaims ?? ['client_id', 'azp'];
  for (const name of [options.scopeClaim, options.rolesClaim, ...clientIdClaims]) {
    if (name !== undefined && (typeof name !== 'string' || name === ''))
      throw new ConfigError(path, 'claim names must be non-empty strings');
  }
  return {
    path,
    issuer: options.issuer,
    audience: options.audience,
    keys: resolveKeySource(options, path),
    algorithms: resolveAlgorithms(options.algorithms, `${path}.algorithms`),
    requiredTyp,
    scopeClaim: options.scopeClaim ?? 'scope',
    rolesClaim: options.rolesClaim,
    clientIdClaims: [...clientIdClaims],
    toleranceSeconds,
    isRevoked: options.isRevoked,
  };
}

function resolveAlgorithms(algorithms: string[] | undefined, path: string): readonly string[] {
  if (algorithms === undefined) return DEFAULT_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    throw new ConfigError(path, 'must list at least one algorithm');
  for (const alg of algorithms) {
    // RFC 8725 §3.1-3.2: never `none`; and no HMAC, because a verifier holding the shared secret
    // could mint tokens, and HS* is the door to RSA/HMAC algorithm confusion.
    if (typeof alg === 'string' && /^HS\d+$/i.test(alg))
      throw new ConfigError(path, `${alg} needs a shared secret; only public-key algorithms are accepted`);
    if (typeof alg !== 'string' || !ASYMMETRIC.has(alg))
      throw new ConfigError(path, `unsupported algorithm (allowed: ${[...ASYMMETRIC].join(', ')})`);
  }
  return [...new Set(algorithms)];
}

function resolveKeySource(options: JwtIssuerOptions, path: string): KeySourceSpec {
  const given = [options.jwksUrl, options.jwksFile, options.jwks, options.getKey].filter(
    (s) => s !== undefined,
  );
  if (given.length !== 1)
    throw new ConfigError(path, 'set exactly one of jwksUrl, jwksFile, jwks and getKey');
  if (options.getKey !== undefined) return { kind: 'resolver', getKey: options.getKey };
  if (options.jwks !== undefined) return { kind: 'inline', jwks: options.jwks };
  if (options.jwksFile !== undefined) {
    if (typeof options.jwksFile !== 'string' || options.jwksFile === '')
      throw new ConfigError(`${path}.jwksFile`, 'must be a file path');
    return { kind: 'file', file: options.jwksFile };
  }
  let url: URL;
  try {
    url = new URL(String(options.jwksUrl));
  } catch (cause) {
    throw new ConfigError(`${path}.jwksUrl`, 'must be an absolute URL', { cause });
  }
  // Keys fetched over plain HTTP can be swapped by anyone on the path: that is a full bypass.
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!secure) throw new ConfigError(`${path}.jwksUrl`, 'must use https (plain http only on loopback)');
  if (url.username || url.password) throw new ConfigError(`${path}.jwksUrl`, 'must not contain credentials');
  return { kind: 'url', url };
}

/** Checks a whole number option and returns it. @throws ConfigError when out of range. */
export function wholeNumber(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new ConfigError(`${ROOT}.${name}`, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** Checks the issuer list as a whole. @throws ConfigError when empty or when an issuer repeats. */
export function resolveIssuers(issuers: readonly JwtIssuerOptions[]): ResolvedIssuer[] {
  if (!Array.isArray(issuers) || issuers.length === 0)
    throw new ConfigError(`${ROOT}.issuers`, 'at least one issuer is required');
  const resolved = issuers.map(resolveIssuer);
  const seen = new Set<string>();
  for (const issuer of resolved) {
    if (seen.has(issuer.issuer)) throw new ConfigError(`${issuer.path}.issuer`, 'duplicate issuer');
    seen.add(issuer.issuer);
  }
  return resolved;
}
