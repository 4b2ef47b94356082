/**
 * Rampart API keys: `rmp_` keys with 256 random bits, stored as SHA-256 hashes, owned by users
 * whose roles apply, with expiry, revocation and rotation with a grace period.
 */

export { TtlCache } from './cache.js';
export { ApiKeyStoreError, type ApiKeyStoreErrorCode } from './errors.js';
export {
  API_KEY_LENGTH,
  API_KEY_PREFIX,
  API_KEY_SECRET_BYTES,
  encodeApiKey,
  type GeneratedApiKey,
  generateApiKey,
  generateKeyId,
  hashApiKey,
  isApiKeyShaped,
  isKeyId,
} from './format.js';
export { type ApiKeyState, type ApiKeyTimes, canAuthenticate, decideKeyState, keyDeadline } from './state.js';
export {
  type ActiveApiKey,
  type ApiKeyLookup,
  type ApiKeyRecord,
  type ApiKeyStore,
  type ApiKeyStoreOptions,
  type ApiKeyUser,
  type CreateApiKeyInput,
  type CreatedApiKey,
  createApiKeyStore,
  MAX_GRACE_MS,
} from './store.js';
export {
  MAX_KEY_SCOPES,
  MAX_USER_ROLES,
  validateKeyName,
  validateRoles,
  validateScopes,
  validateUserId,
} from './validate.js';
export {
  type ApiKeyVerifierLogger,
  type ApiKeyVerifierOptions,
  type ApiKeyVerifierStore,
  createApiKeyVerifier,
} from './verifier.js';
