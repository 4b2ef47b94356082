import type { Selectable } from 'kysely';
import type { ApiKeysTable } from '../../stores/schema.js';
import type { ApiKeyRecord } from './records.js';

/** Every column but `hash`: the hash is written once and only ever used in a WHERE clause. */
export const KEY_COLUMNS = [
  'api_keys.id',
  'api_keys.name',
  'api_keys.user_id',
  'api_keys.display_prefix',
  'api_keys.scopes',
  'api_keys.created_at',
  'api_keys.expires_at',
  'api_keys.revoked_at',
  'api_keys.replaced_by',
  'api_keys.grace_until',
  'api_keys.last_used_at',
] as const;

/** A key row without its hash. */
export type KeyRow = Omit<Selectable<ApiKeysTable>, 'hash'>;

/** Maps a row to the record the store hands out. */
export function toRecord(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    userId: row.user_id,
    displayPrefix: row.display_prefix,
    scopes: row.scopes.split(' ').filter(Boolean),
    createdAt: Number(row.created_at),
    expiresAt: nullableMs(row.expires_at),
    revokedAt: nullableMs(row.revoked_at),
    replacedBy: row.replaced_by,
    graceUntil: nullableMs(row.grace_until),
    lastUsedAt: nullableMs(row.last_used_at),
  };
}

// Postgres drivers return BIGINT as a string; SQLite returns a number. Both become numbers here.
function nullableMs(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

/**
 * Reads the JSON roles column. Fails closed on a row edited by hand into something that is not a
 * list of role names.
 *
 * @throws Error on anything but a JSON array of strings.
 */
export function parseRoles(json: string): string[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((r) => typeof r === 'string')) {
    throw new Error('corrupt roles column in rampart_users');
  }
  return parsed;
}
