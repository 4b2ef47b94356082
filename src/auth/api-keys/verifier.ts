import { ConfigError, RampartError } from '../../core/errors.js';
import type { Principal } from '../principal.js';
import type { Credential, TokenVerifier } from '../verifier.js';
import { TtlCache } from './cache.js';
import { API_KEY_PREFIX, hashApiKey, isApiKeyShaped } from './format.js';
import { keyDeadline } from './state.js';
import type { ApiKeyLookup, ApiKeyStore } from './store.js';

/** The part of a logger the verifier uses; a pino `Logger` fits. */
export interface ApiKeyVerifierLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** What the verifier needs from a store: a lookup and a way to record use. */
export type ApiKeyVerifierStore = Pick<ApiKeyStore, 'lookupByHash' | 'touchKey'>;

/** Options of {@link createApiKeyVerifier}. */
export interface ApiKeyVerifierOptions {
  readonly store: ApiKeyVerifierStore;
  /**
   * How long a key that authenticated is trusted without asking the store, in ms (default 5000;
   * 0 turns the cache off). Revocation, rotation's grace end and user removal therefore take
   * effect within this time; expiry takes effect at once (entries never outlive the key).
   */
  readonly cacheTtlMs?: number;
  /** Most cached keys (default 10 000); the oldest entry is evicted first. */
  readonly cacheMaxEntries?: number;
  /** Least time between two `lastUsedAt` writes for one key, in ms (default 60 000). */
  readonly touchIntervalMs?: number;
  /** The clock, in epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** Where failures to record a key's use are reported (default `console.warn`). */
  readonly logger?: ApiKeyVerifierLogger;
}

type Rejection = Exclude<ApiKeyLookup['status'], 'active' | 'rotating'> | 'malformed';

interface CachedKey {
  readonly keyId: string;
  readonly userId: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly deadline: number | undefined;
}

const CONSOLE_LOGGER: ApiKeyVerifierLogger = { warn: (details, message) => console.warn(message, details) };

/**
 * Verifies Rampart API keys sent as `Authorization: Bearer rmp_…` or `X-API-Key: rmp_…` (the
 * query string is never read: see `extractCredential`).
 *
 * Order of checks: prefix (`accepts`), then length, alphabet and checksum without touching the
 * store, so garbage and typos never reach the database; then SHA-256 and one indexed lookup by hash.
 * Every rejection is the same `ERR_AUTH_INVALID_TOKEN` with the same message and status, whether
 * the key is malformed, unknown, revoked, expired, rotated past its grace period or its user is
 * gone; only `cause` (seen by logs, never by clients) tells them apart. Unknown keys are not
 * cached, so the rate limiter in front bounds how often well-formed forgeries reach the store.
 *
 * @throws ConfigError at construction for a negative or fractional `cacheTtlMs`, `cacheMaxEntries`
 *   or `touchIntervalMs`.
 * @example
 * const verifier = createApiKeyVerifier({ store: createApiKeyStore(db), cacheTtlMs: 5000 });
 */
export function createApiKeyVerifier(options: ApiKeyVerifierOptions): TokenVerifier {
  const store = options.store;
  const ttlMs = checkCount('auth.apiKeys.cacheTtlMs', options.cacheTtlMs ?? 5000, 0);
  const maxEntries = checkCount('auth.apiKeys.cacheMaxEntries', options.cacheMaxEntries ?? 10_000, 1);
  const touchIntervalMs = checkCount('auth.apiKeys.touchIntervalMs', options.touchIntervalMs ?? 60_000, 0);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? CONSOLE_LOGGER;
  // Keyed by the hash, so no raw key is kept in memory longer than one request.
  const cache = new TtlCache<CachedKey>(maxEntries);
  const lastTouched = new Map<string, number>();

  const accepts = (credential: Credential): boolean =>
    (credential.kind === 'bearer' || credential.kind === 'api_key_header') &&
    credential.value.startsWith(API_KEY_PREFIX);

  // lastUsedAt is bookkeeping, not security: written at most once per interval per key, not
  // awaited, and a failure is logged, never turned into a failed request.
  const touch = (keyId: string, at: number): void => {
    const last = lastTouched.get(keyId);
    if (last !== undefined && at - last < touchIntervalMs) return;
    if (lastTouched.size >= maxEntries) lastTouched.clear();
    lastTouched.set(keyId, at);
    Promise.resolve()
      .then(() => store.touchKey(keyId, at))
      .catch((err: unknown) => logger.warn({ err, keyId }, 'could not record API key use'));
  };

  const lookup = async (hash: string, at: number): Promise<CachedKey> => {
    let found: ApiKeyLookup;
    try {
      found = await store.lookupByHash(hash, at);
    } catch (err) {
      // An outage is not a bad key: a 401 would make clients throw away a good one.
      throw new RampartError('ERR_UNAVAILABLE', { cause: err });
    }
    if (found.status !== 'active' && found.status !== 'rotating') throw reject(found.status);
    const entry: CachedKey = {
      keyId: found.key.id,
      userId: found.key.userId,
      scopes: found.key.scopes,
      roles: found.roles,
      deadline: keyDeadline(found.key),
    };
    if (ttlMs > 0)
      cache.set(hash, entry, Math.min(at + ttlMs, entry.deadline ?? Number.POSITIVE_INFINITY), at);
    return entry;
  };

  return {
    name: 'api-key',
    accepts,
    async verify(credential) {
      if (!accepts(credential) || !isApiKeyShaped(credential.value)) throw reject('malformed');
      const at = now();
      const hash = hashApiKey(credential.value);
      const entry = cache.get(hash, at) ?? (await lookup(hash, at));
      touch(entry.keyId, at);
      // Fresh sets per request: a consumer that mutates its principal cannot poison the cache.
      const principal: Principal = {
        subject: entry.userId,
        issuer: 'rampart',
        authMethod: 'api_key',
        keyId: entry.keyId,
        scopes: new Set(entry.scopes),
        roles: new Set(entry.roles),
        expiresAt: entry.deadline,
      };
      return Object.freeze(principal);
    },
    close() {
      cache.clear();
      lastTouched.clear();
    },
  };
}

function reject(cause: Rejection): RampartError {
  return new RampartError('ERR_AUTH_INVALID_TOKEN', { cause });
}

function checkCount(path: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(path, `must be a whole number of at least ${min}`);
  }
  return value;
}
