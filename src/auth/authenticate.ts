import { RampartError } from '../core/errors.js';
import { extractCredential } from './credentials.js';
import type { Principal } from './principal.js';
import type { TokenVerifier } from './verifier.js';

/**
 * Authenticates a request with the first verifier that accepts its credential. A token found in a
 * verifier's cache is answered at once; anything else with a promise.
 */
export type Authenticate = (headers: { get(name: string): string | null }) => Principal | Promise<Principal>;

/**
 * Builds the authentication phase from verifiers (API keys, JWT issuers, …).
 *
 * Fail closed: no credential is `ERR_AUTH_REQUIRED`; a credential no verifier accepts, or one a
 * verifier rejects, is `ERR_AUTH_INVALID_TOKEN`, with the same message in every case.
 */
export function createAuthenticator(verifiers: readonly TokenVerifier[]): Authenticate {
  const caches = verifiers.filter((v) => v.lookup !== undefined);
  const authenticate = async (headers: { get(name: string): string | null }): Promise<Principal> => {
    const credential = extractCredential(headers);
    if (!credential) throw new RampartError('ERR_AUTH_REQUIRED');
    for (const verifier of verifiers) {
      if (verifier.accepts(credential)) return verifier.verify(credential);
    }
    throw new RampartError('ERR_AUTH_INVALID_TOKEN', { cause: 'no verifier accepts this credential' });
  };
  return (headers) => {
    // A token verified before, sent exactly as then and alone: the very string passed every check
    // (scheme, syntax, signature, claims) and is still trusted, so its principal is the answer.
    // Any other spelling (another case of "Bearer", spaces, a second header) takes the full path.
    const authorization = headers.get('authorization');
    if (authorization?.startsWith('Bearer ') && headers.get('x-api-key') === null) {
      const token = authorization.slice(7);
      for (const verifier of caches) {
        const principal = verifier.lookup?.(token);
        if (principal !== undefined) return principal;
      }
    }
    return authenticate(headers);
  };
}
