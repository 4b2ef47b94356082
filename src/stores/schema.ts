/**
 * Rampart's own records, as kysely sees them. Column names are snake_case, times are epoch
 * milliseconds in 64-bit integer columns (`bigint`: a 32-bit `integer` overflows in Postgres).
 * Code that reads rows converts times with `Number()`, because Postgres drivers return `bigint`
 * as a string while better-sqlite3 returns a number.
 */
export interface RampartDb {
  rampart_users: RampartUsersTable;
  api_keys: ApiKeysTable;
}

/** A user that API keys belong to. */
export interface RampartUsersTable {
  id: string;
  /** JSON array of role names. */
  roles: string;
  created_at: number;
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
