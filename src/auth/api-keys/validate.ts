import { ApiKeyStoreError } from './errors.js';

/** Most scopes one key may carry. */
export const MAX_KEY_SCOPES = 32;
/** Most roles one user may have. */
export const MAX_USER_ROLES = 32;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), i.e. visible ASCII but `"` and `\`.
// The length cap is ours: nothing legitimate comes close, and it bounds what a row can hold.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const USER_ID = /^[A-Za-z0-9._@-]{1,128}$/;
const ROLE = /^[A-Za-z0-9._:@-]{1,64}$/;
// Any character but control, format (bidi overrides), unassigned, private-use and surrogate code
// points (\p{C}) and line or paragraph separators: names are printed in terminals and logs.
const NAME = /^[^\p{C}\p{Zl}\p{Zp}]{1,64}$/u;
const HAS_VISIBLE = /[^\s]/u;

/**
 * Checks a key's name: 1..64 printable characters, not all blank.
 *
 * @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT` (field `name`).
 */
export function validateKeyName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name) || !HAS_VISIBLE.test(name)) {
    throw invalid('name', '1 to 64 printable characters');
  }
  return name;
}

/**
 * Checks a user id: 1..128 characters of `[A-Za-z0-9._@-]`, so ids are safe in logs, URLs and
 * the `issuer|subject` principal key.
 *
 * @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT` (field `userId`).
 */
export function validateUserId(id: unknown): string {
  if (typeof id !== 'string' || !USER_ID.test(id)) throw invalid('userId', '1 to 128 of A-Z a-z 0-9 . _ @ -');
  return id;
}

/**
 * Checks a key's scopes: 1..32 RFC 6749 §3.3 scope-tokens (at most 128 characters each).
 * Duplicates are dropped, order is kept: scopes are a set.
 *
 * @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT` (field `scopes`).
 */
export function validateScopes(scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw invalid('scopes', 'an array of scope tokens');
  const out = new Set<string>();
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw invalid('scopes', 'RFC 6749 scope tokens (visible ASCII except " and \\)');
    }
    out.add(scope);
  }
  if (out.size < 1 || out.size > MAX_KEY_SCOPES) throw invalid('scopes', `1 to ${MAX_KEY_SCOPES} scopes`);
  return [...out];
}

/**
 * Checks a user's roles: 0..32 names of 1..64 characters of `[A-Za-z0-9._:@-]`. Duplicates are
 * dropped, order is kept.
 *
 * @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT` (field `roles`).
 */
export function validateRoles(roles: unknown): string[] {
  if (!Array.isArray(roles)) throw invalid('roles', 'an array of role names');
  const out = new Set<string>();
  for (const role of roles) {
    if (typeof role !== 'string' || !ROLE.test(role))
      throw invalid('roles', '1 to 64 of A-Z a-z 0-9 . _ : @ -');
    out.add(role);
  }
  if (out.size > MAX_USER_ROLES) throw invalid('roles', `at most ${MAX_USER_ROLES} roles`);
  return [...out];
}

/**
 * Checks a duration or instant in epoch milliseconds: a safe integer within `[min, max]`.
 *
 * @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT` (the given field).
 */
export function validateMs(field: 'expiresAt' | 'graceMs', value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, field === 'expiresAt' ? 'a future time in epoch ms' : 'whole milliseconds in range');
  }
  return value;
}

function invalid(field: string, rule: string): ApiKeyStoreError {
  // The rule, never the value: messages reach terminals and logs.
  return new ApiKeyStoreError('ERR_KEYSTORE_INVALID_INPUT', `invalid ${field}: expected ${rule}`, field);
}
