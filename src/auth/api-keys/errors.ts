/** Why an API-key store operation was refused. */
export type ApiKeyStoreErrorCode =
  | 'ERR_KEYSTORE_INVALID_INPUT'
  | 'ERR_KEYSTORE_USER_EXISTS'
  | 'ERR_KEYSTORE_USER_NOT_FOUND'
  | 'ERR_KEYSTORE_KEY_NOT_FOUND'
  | 'ERR_KEYSTORE_KEY_NOT_ACTIVE';

const MESSAGES: Readonly<Record<ApiKeyStoreErrorCode, string>> = {
  ERR_KEYSTORE_INVALID_INPUT: 'invalid input',
  ERR_KEYSTORE_USER_EXISTS: 'the user already exists',
  ERR_KEYSTORE_USER_NOT_FOUND: 'no such user',
  ERR_KEYSTORE_KEY_NOT_FOUND: 'no such API key',
  ERR_KEYSTORE_KEY_NOT_ACTIVE: 'the API key is revoked, expired or already rotated',
};

/**
 * A refused administrative operation on the key store (CLI, admin code): bad input, a missing
 * user or key, a key that can no longer be rotated. These never answer a request, so the codes
 * are not in the wire table of `src/core/error-codes.ts`; requests only ever see
 * `ERR_AUTH_INVALID_TOKEN`. Messages name the rule or the state, never the value.
 *
 * @example
 * try { await store.rotateKey(id, 3_600_000); }
 * catch (e) {
 *   if (!(e instanceof ApiKeyStoreError && e.code === 'ERR_KEYSTORE_KEY_NOT_ACTIVE')) throw e;
 * }
 */
export class ApiKeyStoreError extends Error {
  override readonly name = 'ApiKeyStoreError';
  readonly code: ApiKeyStoreErrorCode;
  /** For `ERR_KEYSTORE_INVALID_INPUT`: the offending field, such as `scopes`. */
  readonly field: string | undefined;

  constructor(code: ApiKeyStoreErrorCode, message?: string, field?: string) {
    super(message ?? MESSAGES[code]);
    this.code = code;
    this.field = field;
  }
}
