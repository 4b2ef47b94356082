import { decodeJwt, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { ImmutableSet, type Principal } from '../principal.js';
import type { Credential, TokenVerifier } from '../verifier.js';
import { readTokenClaims, type TokenClaims } from './claims.js';
import { createKeySource } from './key-source.js';
import { type JwtVerifierOptions, type ResolvedIssuer, resolveIssuers, wholeNumber } from './options.js';
import { detailOf, invalidToken, reasonOf } from './rejection.js';
import { VerifiedTokenCache } from './token-cache.js';

/** A {@link TokenVerifier} for JWT access tokens, with cache counters. */
export interface JwtVerifier extends TokenVerifier {
  /** Cache hits and misses since construction, and the number of cached tokens. */
  stats(): { cacheHits: number; cacheMisses: number; cacheSize: number };
  /** Forgets every verified token: after a revocation, the next use of each is checked afresh. */
  clearCache(): void;
}

interface Issuer extends ResolvedIssuer {
  readonly getKey: JWTVerifyGetKey;
}

interface VerifiedToken extends TokenClaims {
  readonly issuer: string;
}

// Compact JWS (RFC 7515 §7.1): three base64url parts; the signature may be empty (`alg: none`),
// so such tokens reach `verify` and are refused there with a reason the logs can show.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies JWT access tokens (RFC 9068) from a fixed set of trusted issuers, following the JWT
 * best current practices (RFC 8725).
 *
 * Checks, in order: size cap (before any parsing); compact shape; the unverified `iss` selects the
 * issuer (a lookup key only); the header `alg` must be on that issuer's allow-list before any key
 * is resolved; then jose verifies the signature with a key from the issuer's JWKS (never from the
 * token's `jwk`/`jku`/`x5u`/`x5c` headers), refuses unknown `crit` extensions, and checks `typ`,
 * exact `iss`, that `aud` contains the resource URI, `exp` (required), `nbf`, with the clock
 * tolerance; finally `iat` must not be in the future and `sub` must be a non-empty string.
 *
 * Every refusal is the same `RampartError('ERR_AUTH_INVALID_TOKEN')`, whose `cause` is a
 * `JwtRejection` naming the reason (`expired`, `bad_audience`, …) for logs only.
 *
 * Verified tokens are cached (see `VerifiedTokenCache`): a repeated token costs one Map lookup.
 *
 * @throws ConfigError at construction for a bad option: no issuers, a duplicate issuer, `none` or
 *   `HS*` algorithms, a tolerance above 60 s, not exactly one key source, an unreadable JWKS file,
 *   a JWKS holding private keys, or a plain-HTTP JWKS URL off loopback.
 * @example
 * const verifier = createJwtVerifier({
 *   issuers: [
 *     {
 *       issuer: 'https://sso.example.com',
 *       jwksUrl: 'https://sso.example.com/jwks',
 *       audience: 'https://mcp.example.com/mcp',
 *     },
 *   ],
 * });
 * const principal = await verifier.verify({ kind: 'bearer', value: token });
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const now = options.now ?? Date.now;
  const maxTokenBytes = wholeNumber('maxTokenBytes', options.maxTokenBytes ?? 8192, 256, 65_536);
  const timeoutMs = wholeNumber('jwksTimeoutMs', options.jwksTimeoutMs ?? 5000, 1, 600_000);
  const cooldownMs = wholeNumber('jwksCooldownMs', options.jwksCooldownMs ?? 30_000, 0);
  const maxEntries = wholeNumber('cacheMaxEntries', options.cache?.maxEntries ?? 10_000, 0);
  const maxTtlSeconds = wholeNumber('cacheMaxTtlSeconds', options.cache?.maxTtlSeconds ?? 60, 0, 3600);

  // Null prototype: the unverified `iss` is attacker-chosen, so `__proto__` or `constructor`
  // must find nothing.
  const issuers: Record<string, Issuer> = Object.create(null);
  for (const resolved of resolveIssuers(options.issuers)) {
    const keyOptions = { path: resolved.path, timeoutMs, cooldownMs, fetch: options.fetch, now };
    issuers[resolved.issuer] = { ...resolved, getKey: createKeySource(resolved.keys, keyOptions) };
  }
  const cache = new VerifiedTokenCache<Principal>(maxEntries, maxTtlSeconds * 1000);

  async function verifyToken(token: string, at: number): Promise<VerifiedToken> {
    if (!COMPACT_JWS.test(token)) throw invalidToken('malformed');
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch (error) {
      throw invalidToken('malformed', detailOf(error));
    }
    const issuer = typeof iss === 'string' && Object.hasOwn(issuers, iss) ? issuers[iss] : undefined;
    if (issuer === undefined) throw invalidToken('unknown_issuer');
    // RFC 8725 §3.1: the algorithm is checked before any key is resolved (jose checks it again).
    if (typeof alg !== 'string' || !issuer.algorithms.includes(alg)) throw invalidToken('alg_not_allowed');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.getKey, {
        algorithms: [...issuer.algorithms],
        issuer: issuer.issuer,
        audience: issuer.audience,
        requiredClaims: ['exp'],
        clockTolerance: issuer.toleranceSeconds,
        currentDate: new Date(at),
        // RFC 9068 §4: refuse other JWTs (ID tokens, …) presented as access tokens.
        ...(issuer.requiredTyp === false ? {} : { typ: issuer.requiredTyp }),
      }));
    } catch (error) {
      throw invalidToken(reasonOf(error), detailOf(error));
    }
    // JSON allows 1e999, which parses as Infinity: a token that would never expire.
    if (!Number.isFinite(payload.exp)) throw invalidToken('bad_exp');
    // jose checks `iat` only with maxTokenAge; a token issued in the future is a forgery or a
    // clock fault either way.
    if (payload.iat !== undefined && payload.iat > Math.floor(at / 1000) + issuer.toleranceSeconds)
      throw invalidToken('iat_in_future');
    const claims = readTokenClaims(payload, issuer);
    if (claims === undefined) throw invalidToken('bad_subject');
    if (issuer.isRevoked && (await issuer.isRevoked(payload))) throw invalidToken('revoked');
    return { ...claims, issuer: issuer.issuer };
  }

  return {
    name: 'jwt',
    accepts: (credential: Credential) => credential.kind === 'bearer' && COMPACT_JWS.test(credential.value),
    async verify(credential: Credential): Promise<Principal> {
      if (credential.kind !== 'bearer') throw invalidToken('malformed');
      const token = credential.value;
      // Before anything else, the cache lookup included: a huge string is never hashed or parsed.
      if (token.length > maxTokenBytes) throw invalidToken('too_large');
      const at = now();
      let principal = cache.get(token, at);
      if (principal === undefined) {
        const verified = await verifyToken(token, at);
        principal = toPrincipal(verified);
        cache.set(token, principal, verified.expiresAt, at);
      }
      return principal;
    },
    lookup(token: string): Principal | undefined {
      return token.length > maxTokenBytes ? undefined : cache.get(token, now(), false);
    },
    stats: () => cache.stats(),
    clearCache: () => cache.clear(),
    close() {
      cache.clear();
    },
  };
}

function toPrincipal(token: VerifiedToken): Principal {
  // One frozen principal per verified token, shared by the requests that present it: its sets
  // cannot change, so no consumer can alter what the next request gets.
  return Object.freeze({
    subject: token.subject,
    issuer: token.issuer,
    authMethod: 'jwt',
    clientId: token.clientId,
    scopes: new ImmutableSet(token.scopes),
    roles: new ImmutableSet(token.roles),
    expiresAt: token.expiresAt,
  });
}
