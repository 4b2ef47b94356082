import { RampartError } from '../core/errors.js';
import { extractCredential } from './credentials.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './verifier.js';

/** Authenticates a request with the first verifier that accepts its credential. */
export type Authenticate = (headers: { get(name: string): string | null }) => Promise<Principal>;

/**
 * Builds the authentication phase from verifiers (API keys, JWT issuers, …).
 *
 * Fail closed: no credential is `ERR_AUTH_REQUIRED`; a credential no verifier accepts, or one a
 * verifier rejects, is `ERR_AUTH_INVALID_TOKEN`, with the same message in every case.
 */
export function createAuthenticator(verifiers: readonly TokenVerifier[]): Authenticate {
  return async (headers) => {
    const credential = extractCredential(headers);
    if (!credential) throw new RampartError('ERR_AUTH_REQUIRED');
    for (const verifier of verifiers) {
      if (verifier.accepts(credential)) return verifier.verify(credential);
    }
    throw new RampartError('ERR_AUTH_INVALID_TOKEN', { cause: 'no verifier accepts this credential' });
  };
}
