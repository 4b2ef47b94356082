import { hash } from 'node:crypto';
import { rememberedTest } from '../core/remembered.js';
import { canonicalJson } from './canonical.js';

/** What a secret-looking argument's value becomes before hashing. */
export const REDACTED = '[redacted]';

/**
 * Argument names whose values are secrets; matched case-insensitively, ignoring `-`, `_`, `.` and
 * spaces. Short names (`pin`, `auth`) only at the end, so that `spinner`, `opinion` or `author` keep
 * their values in the hash.
 */
const SECRET_NAME = new RegExp(
  [
    'pass(word|wd|phrase)?',
    'pwd',
    'secret',
    'token',
    'authorization',
    'credential',
    'session',
    'cookie',
    'bearer',
    'jwt',
    '(api|access|private|signing|ssh|encryption|decryption|master|hmac|auth)key',
    'otp', // also totp, hotp, otp_code
    '(mfa|2fa|tfa|auth|verification|recovery)code',
    'pin(code|number)?$',
    'cv[cv]2?$', // card security codes
    'auth(header)?$',
  ].join('|'),
);

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

/** Whether an argument's value is redacted before hashing (see {@link hashArguments}). */
export const isSecretName: (name: string) => boolean = rememberedTest((name) =>
  SECRET_NAME.test(name.toLowerCase().replace(/[-_.\s]/g, '')),
);
