/**
 * Rampart's own records, as kysely sees them. Column names are snake_case, times are epoch
 * milliseconds in 64-bit integer columns (`bigint`: a 32-bit `integer` overflows in Postgres).
 * Code that reads rows converts times with `Number()`, because Postgres drivers return `bigint`
 * as a string while better-sqlite3 returns a number.
 */
export interface RampartDb {
  rampart_users: RampartUsersTable;
  api_keys: ApiKeysTable;
  oauth_clients: OAuthClientsTable;
  oauth_grants: OAuthGrantsTable;
  oauth_codes: OAuthCodesTable;
  oauth_refresh_tokens: OAuthRefreshTokensTable;
  oauth_signing_keys: OAuthSigningKeysTable;
  oauth_pending: OAuthPendingTable;
}

/** Minutes-long state of the browser flow, shared by every instance (a request awaiting the user's decision, an upstream sign-in in flight). */
export interface OAuthPendingTable {
  id: string;
  /** JSON. */
  data: string;
  expires_at: number;
}

/** Clients of the embedded authorization server (registered, pre-registered or from CIMD). */
export interface OAuthClientsTable {
  client_id: string;
  /** JSON of the `OAuthClient` record. */
  record: string;
  created_at: number;
}

/** What a user approved for a client: every code and token issued from it hangs on it. */
export interface OAuthGrantsTable {
  id: string;
  user_id: string;
  client_id: string;
  /** Space-separated granted scopes. */
  scope: string;
  /** The resource (RFC 8707) the tokens are for. */
  resource: string;
  created_at: number;
  revoked_at: number | null;
}

/** Authorization codes, by SHA-256 of the code; marked used, not deleted, so a replay is seen. */
export interface OAuthCodesTable {
  code_hash: string;
  grant_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  expires_at: number;
  used_at: number | null;
}

/** Refresh tokens, by SHA-256; a used one stays to detect reuse. */
export interface OAuthRefreshTokensTable {
  token_hash: string;
  grant_id: string;
  expires_at: number;
  used_at: number | null;
}

/** The authorization server's signing keys (private JWKs); retired ones stay published a while. */
export interface OAuthSigningKeysTable {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
}

/** A user that API keys belong to. */
export interface RampartUsersTable {
  id: string;
  /** JSON array of role names. */
  roles: string;
  created_at: number;
  /** scrypt hash for the authorization server's login page (`scrypt$N$r$p$salt$hash`), or null. */
  password_hash: string | null;
}

/** An API key, stored by hash only. */
export interface ApiKeysTable {
  /** `key_` + 16 base32 characters. */
  id: string;
  name: string;
  /** References `rampart_users.id`; removing the user deletes its keys. */
  user_id: string;
  /** SHA-256 hex of the key; unique. */
  hash: string;
  display_prefix: string;
  /** Space-separated scope tokens (RFC 6749 §3.3). */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  /** The key that replaced this one in a rotation. */
  replaced_by: string | null;
  /** End of the rotation grace period: the key is dead from then on. */
  grace_until: number | null;
  last_used_at: number | null;
}
