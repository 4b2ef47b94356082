/** How a principal proved who it is. */
export type AuthMethod = 'api_key' | 'jwt';

/**
 * The authenticated caller of one request: built by a {@link TokenVerifier}, frozen, and read by
 * authorization, tools and the audit trail. It never holds the credential itself.
 */
export interface Principal {
  /** The user the request acts for (API key owner, or the token's `sub`). */
  readonly subject: string;
  /** Who vouches for the subject: `rampart` for API keys, the token's `iss` for JWTs. */
  readonly issuer: string;
  readonly authMethod: AuthMethod;
  /** The OAuth client (`client_id`/`azp`), when the token names one. */
  readonly clientId?: string | undefined;
  /** The API key's id (never the key), when authenticated by API key. */
  readonly keyId?: string | undefined;
  /** Scopes as granted, before the hierarchy is applied. */
  readonly scopes: ReadonlySet<string>;
  /** Roles of the subject (from the user store, or mapped from token claims). */
  readonly roles: ReadonlySet<string>;
  /** When the credential stops being valid, in epoch milliseconds. */
  readonly expiresAt?: number | undefined;
}

/** A stable string that identifies a principal across its credentials: `issuer|subject`. */
export function principalKey(principal: Pick<Principal, 'issuer' | 'subject'>): string {
  return `${principal.issuer}|${principal.subject}`;
}

/**
 * A set that cannot change once built: `add`, `delete` and `clear` throw. A cached principal's
 * scopes and roles are shared by every request that presents its credential, so no consumer may
 * change them for the next one.
 */
export class ImmutableSet<T> extends Set<T> {
  #sealed = false;

  constructor(values: Iterable<T>) {
    super();
    for (const value of values) super.add(value);
    this.#sealed = true;
  }

  override add(value: T): this {
    if (this.#sealed) throw new TypeError('this set cannot change');
    return super.add(value);
  }

  override delete(_value: T): boolean {
    throw new TypeError('this set cannot change');
  }

  override clear(): void {
    throw new TypeError('this set cannot change');
  }
}
