import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** Argument names whose values are secrets; matched case-insensitively, ignoring `-` and `_`. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|apikey|authorization|credential|privatekey|session|cookie|otp|pin$/;

/** What a secret-looking argument's value becomes before hashing. */
export const REDACTED = '[redacted]';

/**
 * The audit trail's fingerprint of a tool's arguments: SHA-256 (hex) of their canonical JSON, with
 * the values of secret-looking names (password, token, api_key, …) replaced first. The hash proves
 * which arguments a call had to anyone who holds them, and is not logged with the arguments; the
 * replacement keeps a short secret from being recovered by hashing guesses until one matches.
 */
export function hashArguments(args: unknown): string {
  // One-shot: half the cost of createHash().update().digest() for a short text.
  return hash('sha256', canonicalJson(redactSecrets(args, 0)));
}

/** A copy of `value` with the values of secret-looking names replaced. */
export function redactSecrets(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  // Null prototype: a key named __proto__ stays a plain key.
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, member] of Object.entries(value)) {
    out[key] = isSecretName(key) ? REDACTED : redactSecrets(member, depth + 1);
  }
  return out;
}

// Argument names repeat from call to call; the answer for each is kept (up to a bound, since the
// names come from requests).
const secretNames = new Map<string, boolean>();
const MAX_REMEMBERED_NAMES = 4096;

export function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name.toLowerCase().replace(/[-_\s]/g, ''));
    if (name.length <= 64 && secretNames.size < MAX_REMEMBERED_NAMES) secretNames.set(name, secret);
  }
  return secret;
}
