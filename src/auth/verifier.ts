import type { Principal } from './principal.js';

/** A credential found on a request, before it is verified. */
export type Credential =
  | { readonly kind: 'bearer'; readonly value: string }
  | { readonly kind: 'api_key_header'; readonly value: string };

/**
 * Turns a credential into a {@link Principal}, or throws a `RampartError`
 * (`ERR_AUTH_INVALID_TOKEN` for anything it does not accept).
 *
 * `accepts` is a cheap syntactic test (an API key's prefix, a JWT's three segments) so the
 * authenticator can pick the one verifier responsible without trying each in turn.
 */
export interface TokenVerifier {
  readonly name: string;
  accepts(credential: Credential): boolean;
  verify(credential: Credential): Promise<Principal>;
  /**
   * The principal of a bearer token this verifier verified before and still trusts, from its cache,
   * or undefined; never verifies. The authenticator asks it first, so a repeated token skips the
   * syntax checks it passed the first time.
   */
  lookup?(token: string): Principal | undefined;
  /** Releases timers and connections. */
  close?(): Promise<void> | void;
}
