import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigError } from '../../core/errors.js';
import { createJwksFetch, keySetProblem } from './jwks-fetch.js';
import type { KeySourceSpec } from './options.js';
import { detailOf, KeySetUnavailable } from './rejection.js';

/** Options of {@link createKeySource}. */
export interface KeySourceOptions {
  /** Config path of the issuer, for errors. */
  readonly path: string;
  /** JWKS HTTP timeout, in ms. */
  readonly timeoutMs: number;
  /** Least time between reloads for an unknown `kid`, and after a failed fetch, in ms. */
  readonly cooldownMs: number;
  /** The `fetch` for JWKS URLs (default the global one). */
  readonly fetch: typeof fetch | undefined;
  /** The clock, in epoch ms: drives the failure backoff and the JWKS file cooldown. */
  readonly now: () => number;
}

/** A remote key set is refetched at least this often even when every `kid` is known, in ms. */
const REMOTE_MAX_AGE_MS = 10 * 60_000;

/**
 * Builds the key resolver of one issuer. Keys come only from the configured key set: the token's
 * `jwk`, `jku`, `x5u` and `x5c` headers are never consulted (RFC 8725 §3.10), because only keys
 * jose's JWKS resolvers select by `kid`, `alg`, `kty`, `use` and `key_ops` are ever returned.
 *
 * The resolver throws jose's `JWKSNoMatchingKey`/`JWKSMultipleMatchingKeys` for a `kid` it does
 * not hold, and {@link KeySetUnavailable} for everything else (endpoint down, timeout, bad set).
 *
 * @throws ConfigError when an inline set or a JWKS file is unreadable or not a public key set.
 */
export function createKeySource(spec: KeySourceSpec, options: KeySourceOptions): JWTVerifyGetKey {
  switch (spec.kind) {
    case 'inline':
      return guard(localSet(spec.jwks, `${options.path}.jwks`));
    case 'resolver':
      return guard(spec.getKey);
    case 'file':
      return guard(fileSet(spec.file, options));
    case 'url':
      return guard(
        createRemoteJWKSet(spec.url, {
          timeoutDuration: options.timeoutMs,
          cooldownDuration: options.cooldownMs,
          cacheMaxAge: Math.max(REMOTE_MAX_AGE_MS, options.cooldownMs),
          [customFetch]: createJwksFetch({
            fetch: options.fetch ?? ((input, init) => fetch(input, init)),
            backoffMs: options.cooldownMs,
            now: options.now,
          }),
        }),
      );
  }
}

function guard(getKey: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await getKey(header, token);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw error;
      // Fail closed: no keys means no valid token, and never a 500 that describes the outage.
      if (error instanceof KeySetUnavailable) throw error;
      throw new KeySetUnavailable(detailOf(error) ?? 'key resolution failed');
    }
  };
}

function localSet(value: unknown, path: string): JWTVerifyGetKey {
  const problem = keySetProblem(value);
  if (problem) throw new ConfigError(path, problem);
  try {
    return createLocalJWKSet(value as JSONWebKeySet);
  } catch (cause) {
    throw new ConfigError(path, 'is not a valid JWKS', { cause });
  }
}

/**
 * A JWKS file, read now and re-read for an unknown `kid` at most once per cooldown, so keys can be
 * rotated by replacing the file. A re-read that fails keeps the keys already loaded.
 */
function fileSet(file: string, options: KeySourceOptions): JWTVerifyGetKey {
  const path = `${options.path}.jwksFile`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(path, 'cannot be read', { cause });
  }
  let keys = localSet(parseJson(text, path), path);
  let readAt = options.now();
  let pending: Promise<void> | undefined;

  const reload = async (): Promise<void> => {
    readAt = options.now();
    try {
      keys = localSet(parseJson(await readFile(file, 'utf8'), path), path);
    } catch {
      // Keep the keys we have; the token that asked stays refused.
    }
  };

  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code !== 'ERR_JWKS_NO_MATCHING_KEY') throw error;
      if (!pending && options.now() - readAt < options.cooldownMs) throw error;
      pending ??= reload().finally(() => {
        pending = undefined;
      });
      await pending;
      return keys(header, token);
    }
  };
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(path, 'is not JSON', { cause });
  }
}
