import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** What a secret-looking argument's value becomes before hashing. */
export const REDACTED = '[redacted]';

/** Argument names whose values are secrets; matched case-insensitively, ignoring `-` and `_`. */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|apikey|authorization|credential|privatekey|session|cookie|otp|pin$/;

/**
 * The audit trail's fingerprint of a tool's arguments: SHA-256 (hex) of their canonical JSON, with
 * the values of secret-looking names (password, token, api_key, …) replaced first. The hash proves
 * which arguments a call had to anyone who holds them, and is not logged with the arguments; the
 * replacement keeps a short secret from being recovered by hashing guesses until one matches.
 */
export function hashArguments(args: unknown): string {
  // One pass, no redacted copy: 0.83 → 0.45 µs for a one-argument call (Node 20), paid on every
  // audited tool call. One-shot hash: half the cost of createHash().update().digest() for a short text.
  return hash('sha256', canonicalJson(args, redactSecretName));
}

const REDACTED_JSON = JSON.stringify(REDACTED);
const redactSecretName = (key: string) => (isSecretName(key) ? REDACTED_JSON : undefined);

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
