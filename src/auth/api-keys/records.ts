/**
 * A user that keys belong to; its roles apply to every one of its keys. (A type alias, not an
 * interface, so that rows fit `Record<string, unknown>` for the CLI's table printer.)
 */
export type ApiKeyUser = {
  readonly id: string;
  readonly roles: string[];
  /** Epoch ms. */
  readonly createdAt: number;
};

/** A stored key as the store shows it: never the key, never its hash. Times are epoch ms. */
export type ApiKeyRecord = {
  readonly id: string;
  readonly name: string;
  readonly userId: string;
  /** `rmp_` and the first 6 characters of the key, to tell keys apart. */
  readonly displayPrefix: string;
  readonly scopes: string[];
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  /** The id of the key that replaced this one in a rotation. */
  readonly replacedBy: string | null;
  /** After a rotation: the end of the grace period in which this key still works. */
  readonly graceUntil: number | null;
  /** Updated at most about once a minute by the verifier. */
  readonly lastUsedAt: number | null;
};

/** What `ApiKeyStore.createKey` needs. */
export interface CreateApiKeyInput {
  /** 1..64 printable characters; for people, not unique. */
  readonly name: string;
  /** An existing user. */
  readonly userId: string;
  /** 1..32 RFC 6749 §3.3 scope tokens. */
  readonly scopes: readonly string[];
  /** Epoch ms in the future; omitted: the key does not expire. */
  readonly expiresAt?: number | undefined;
}

/** A new key: `key` is the secret, returned this once and never stored. */
export interface CreatedApiKey {
  readonly record: ApiKeyRecord;
  readonly key: string;
}

/** A key that may authenticate, with its owner's roles. */
export interface ActiveApiKey {
  readonly key: ApiKeyRecord;
  readonly roles: string[];
}

/** The outcome of looking a hash up: why a key fails stays available for logs. */
export type ApiKeyLookup =
  | ({ readonly status: 'active' | 'rotating' } & ActiveApiKey)
  | { readonly status: 'unknown' | 'revoked' | 'expired' | 'rotated' | 'user_removed' };
