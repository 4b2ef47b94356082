import { decodeJwt, decodeProtectedHeader, type JSONWebKeySet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { ConfigError, RampartError } from '../../core/errors.js';
import type { Principal } from '../principal.js';
import type { Credential, TokenVerifier } from '../verifier.js';
import { readListClaim, readStringClaim } from './claims.js';
import { createKeySource } from './key-source.js';
import { VerifiedTokenCache } from './token-cache.js';

/** Asymmetric algorithms only: a shared-secret HS* key would let anyone holding it mint tokens. */
const ALLOWED_ALGORITHMS = new Set([
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
]);
const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
const COMPACT_JWS = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

/** One trusted token issuer. */
export interface JwtIssuerOptions {
  /** Exact `iss` value. */
  issuer: string;
  /** Exactly one of `jwksUrl`, `jwksFile` and `jwks`. */
  jwksUrl?: string;
  jwksFile?: string;
  jwks?: JSONWebKeySet;
  /** Accepted `alg` values (default RS256, ES256, PS256, EdDSA); checked before any key is looked up. */
  algorithms?: string[];
  /** This server's canonical resource URI (RFC 8707); `aud` must contain it exactly. */
  audience: string;
  /** Required `typ` header (default `at+jwt`, RFC 9068 §2.1); `false` accepts any. */
  requiredTyp?: string | false;
  /** Claim holding the scopes (default `scope`, space-separated; `scp` arrays are read too). */
  scopeClaim?: string;
  /** Claim holding the roles, e.g. `roles` or `cognito:groups`. */
  rolesClaim?: string;
  /** Claims naming the OAuth client, first found wins (default `client_id`, `azp`). */
  clientIdClaims?: string[];
  /** Leeway for `exp`, `nbf` and `iat` in seconds (default 30, at most 60). */
  clockToleranceSeconds?: number;
}

/** Options of {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  issuers: JwtIssuerOptions[];
  /** Tokens longer than this are refused unparsed (default 8192 bytes). */
  maxTokenBytes?: number;
  /** Verified-token cache: entries (default 10 000) and lifetime cap in seconds (default 60). */
  cache?: { maxEntries?: number; maxTtlSeconds?: number };
  /** JWKS fetch timeout (default 5000 ms). */
  jwksTimeoutMs?: number;
  /** Least time between JWKS refetches for an unknown `kid` (default 30 000 ms). */
  jwksCooldownMs?: number;
  fetch?: typeof fetch;
  /** Clock in epoch ms (default `Date.now`). */
  now?: () => number;
}

interface Issuer {
  readonly options: JwtIssuerOptions;
  readonly algorithms: readonly string[];
  readonly keys: JWTVerifyGetKey;
  readonly toleranceSeconds: number;
}

/** A {@link TokenVerifier} for JWT access tokens, with cache statistics. */
export interface JwtVerifier extends TokenVerifier {
  stats(): { cacheHits: number; cacheMisses: number; cacheSize: number };
}

/**
 * Verifies JWT access tokens from trusted issuers (RFC 9068, RFC 8725).
 *
 * Order of checks: size cap; compact shape; the unverified `iss` picks the issuer (only as a key
 * into the configured set); the header's `alg` must be on that issuer's allow-list before any key
 * is resolved; then signature, `typ`, exact `iss`, audience, `exp` (required), `nbf`, `iat` and
 * unknown `crit` (jose rejects it). Every failure is the same `ERR_AUTH_INVALID_TOKEN`; the reason
 * is only in `cause`, for logs.
 *
 * @throws ConfigError for invalid options (no issuers, HMAC or "none" algorithms, tolerance over 60 s).
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const now = options.now ?? Date.now;
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const cooldownMs = options.jwksCooldownMs ?? 30_000;
  if (options.issuers.length === 0)
    throw new ConfigError('auth.jwt.issuers', 'at least one issuer is required');
  const issuers = new Map<string, Issuer>();
  options.issuers.forEach((issuer, i) => {
    const path = `auth.jwt.issuers[${i}]`;
    if (issuers.has(issuer.issuer)) throw new ConfigError(path, 'duplicate issuer');
    if (!issuer.audience) throw new ConfigError(path, 'an audience (the resource URI) is required');
    const algorithms = issuer.algorithms ?? DEFAULT_ALGORITHMS;
    for (const alg of algorithms) {
      if (!ALLOWED_ALGORITHMS.has(alg))
        throw new ConfigError(`${path}.algorithms`, `"${alg}" is not allowed`);
    }
    const toleranceSeconds = issuer.clockToleranceSeconds ?? 30;
    if (toleranceSeconds < 0 || toleranceSeconds > 60) {
      throw new ConfigError(`${path}.clockToleranceSeconds`, 'must be between 0 and 60');
    }
    const sources = [issuer.jwksUrl, issuer.jwksFile, issuer.jwks].filter((s) => s !== undefined);
    if (sources.length !== 1) throw new ConfigError(path, 'set exactly one of jwksUrl, jwksFile and jwks');
    const keys = issuer.jwksUrl
      ? createKeySource(path, {
          jwksUrl: issuer.jwksUrl,
          timeoutMs: options.jwksTimeoutMs ?? 5000,
          cooldownMs,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : issuer.jwksFile
        ? createKeySource(path, { jwksFile: issuer.jwksFile, cooldownMs, now })
        : createKeySource(path, { jwks: issuer.jwks as JSONWebKeySet });
    issuers.set(issuer.issuer, { options: issuer, algorithms, keys, toleranceSeconds });
  });
  const cache = new VerifiedTokenCache(
    options.cache?.maxEntries ?? 10_000,
    (options.cache?.maxTtlSeconds ?? 60) * 1000,
  );

  async function verifyToken(token: string): Promise<Principal> {
    if (token.length > maxTokenBytes) throw invalid('too_large');
    if (!COMPACT_JWS.test(token)) throw invalid('malformed');
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch (cause) {
      throw invalid('malformed', cause);
    }
    const issuer = typeof iss === 'string' ? issuers.get(iss) : undefined;
    if (!issuer) throw invalid('unknown_issuer');
    // RFC 8725 §3.1: the algorithm is checked against the allow-list before any key is resolved.
    if (typeof alg !== 'string' || !issuer.algorithms.includes(alg)) throw invalid('algorithm_not_allowed');

    const { options: cfg } = issuer;
    const at = now();
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: [...issuer.algorithms],
        clockTolerance: issuer.toleranceSeconds,
        requiredClaims: ['exp'],
        currentDate: new Date(at),
        ...(cfg.requiredTyp === false ? {} : { typ: cfg.requiredTyp ?? 'at+jwt' }),
      }));
    } catch (cause) {
      throw invalid(reasonOf(cause), cause);
    }
    // jose checks `iat` only with maxTokenAge; a token issued in the future is refused here.
    if (typeof payload.iat === 'number' && payload.iat > at / 1000 + issuer.toleranceSeconds)
      throw invalid('iat_in_future');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256)
      throw invalid('no_subject');
    const scopeClaim = cfg.scopeClaim ?? 'scope';
    const scopes = readListClaim(payload, scopeClaim);
    if (scopeClaim === 'scope' && scopes.length === 0) scopes.push(...readListClaim(payload, 'scp'));
    return Object.freeze({
      subject: payload.sub,
      issuer: cfg.issuer,
      authMethod: 'jwt' as const,
      clientId: readStringClaim(payload, cfg.clientIdClaims ?? ['client_id', 'azp']),
      scopes: new Set(scopes),
      roles: new Set(cfg.rolesClaim ? readListClaim(payload, cfg.rolesClaim) : []),
      expiresAt: (payload.exp as number) * 1000,
    });
  }

  return {
    name: 'jwt',
    accepts: (credential: Credential) =>
      credential.kind === 'bearer' && credential.value.split('.').length === 3,
    async verify(credential: Credential): Promise<Principal> {
      const token = credential.value;
      const at = now();
      const cached = cache.get(token, at);
      if (cached) return cached;
      const principal = await verifyToken(token);
      cache.set(token, principal, at);
      return principal;
    },
    stats: () => ({ cacheHits: cache.hits, cacheMisses: cache.misses, cacheSize: cache.size }),
  };
}

function invalid(reason: string, cause?: unknown): RampartError {
  // `cause` keeps the reason for logs; the client sees one fixed message for every failure.
  return new RampartError('ERR_AUTH_INVALID_TOKEN', {
    cause: cause === undefined ? reason : { reason, error: cause },
  });
}

function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const claim = (error as { claim?: unknown })?.claim;
  if (code === 'ERR_JWT_EXPIRED') return 'expired';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `bad_${String(claim)}`;
  if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'unknown_kid';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'bad_signature';
  if (code === 'ERR_JWKS_TIMEOUT' || code === 'ERR_JOSE_GENERIC') return 'jwks_unavailable';
  return typeof code === 'string' ? code.toLowerCase() : 'invalid';
}
