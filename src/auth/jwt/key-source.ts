import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { ConfigError } from '../../core/errors.js';

/** Where one issuer's verification keys come from. Embedded `jwk`/`jku`/`x5u`/`x5c` headers never are. */
export type KeySourceOptions =
  | {
      readonly jwksUrl: string;
      readonly timeoutMs: number;
      readonly cooldownMs: number;
      readonly fetch?: typeof fetch;
    }
  | { readonly jwksFile: string; readonly cooldownMs: number; readonly now: () => number }
  | { readonly jwks: JSONWebKeySet };

/**
 * Builds the key getter of one issuer.
 *
 * A remote JWKS is fetched with a timeout, cached, and refetched for an unknown `kid` at most once
 * per cooldown (jose's remote set does all three). A JWKS file is re-read for an unknown `kid` at
 * the same bounded rate, so key rotation by file replacement needs no restart.
 *
 * @throws ConfigError when a JWKS file cannot be read or is not a key set.
 */
export function createKeySource(path: string, options: KeySourceOptions): JWTVerifyGetKey {
  if ('jwksUrl' in options) {
    return createRemoteJWKSet(new URL(options.jwksUrl), {
      timeoutDuration: options.timeoutMs,
      cooldownDuration: options.cooldownMs,
      cacheMaxAge: 10 * 60_000,
      ...(options.fetch ? { [customFetch]: options.fetch } : {}),
    });
  }
  if ('jwks' in options) return createLocalJWKSet(checkKeySet(path, options.jwks));

  const read = () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(options.jwksFile, 'utf8'));
    } catch (cause) {
      throw new ConfigError(path, `cannot read JWKS file ${options.jwksFile}`, { cause });
    }
    return createLocalJWKSet(checkKeySet(path, parsed));
  };
  let local = read();
  let readAt = options.now();
  return async (header, token) => {
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || options.now() - readAt < options.cooldownMs)
        throw error;
      readAt = options.now();
      try {
        local = read();
      } catch {
        throw error; // keep the keys we had; the token stays invalid
      }
      return local(header, token);
    }
  };
}

function checkKeySet(path: string, value: unknown): JSONWebKeySet {
  if (value === null || typeof value !== 'object' || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new ConfigError(path, 'is not a JWKS ({ "keys": [...] })');
  }
  for (const key of (value as JSONWebKeySet).keys) {
    if ('d' in key || key.kty === 'oct')
      throw new ConfigError(path, 'a JWKS for verification must hold public keys only');
  }
  return value as JSONWebKeySet;
}
