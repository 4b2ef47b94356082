import type { Kysely } from 'kysely';
import type { RampartDb } from '../../stores/schema.js';
import { ApiKeyStoreError } from './errors.js';
import { generateApiKey, generateKeyId } from './format.js';
import type {
  ActiveApiKey,
  ApiKeyLookup,
  ApiKeyRecord,
  ApiKeyUser,
  CreateApiKeyInput,
  CreatedApiKey,
} from './records.js';
import { KEY_COLUMNS, type KeyRow, parseRoles, toRecord } from './rows.js';
import { type ApiKeyState, canAuthenticate, decideKeyState } from './state.js';
import { validateKeyName, validateMs, validateRoles, validateScopes, validateUserId } from './validate.js';

export type {
  ActiveApiKey,
  ApiKeyLookup,
  ApiKeyRecord,
  ApiKeyUser,
  CreateApiKeyInput,
  CreatedApiKey,
} from './records.js';

/** Options of {@link createApiKeyStore}. */
export interface ApiKeyStoreOptions {
  /** The clock, in epoch ms (default `Date.now`); tests inject one. */
  readonly now?: () => number;
}

/** Longest grace period a rotation may give: 30 days. Longer overlaps defeat the point of rotating. */
export const MAX_GRACE_MS = 30 * 24 * 3_600_000;

/**
 * Users and their API keys, on any kysely database migrated by `migrateToLatest`.
 * Admin operations throw {@link ApiKeyStoreError}; lookups never throw for an unknown key.
 */
export interface ApiKeyStore {
  /** @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT`, `ERR_KEYSTORE_USER_EXISTS`. */
  createUser(id: string, roles: readonly string[]): Promise<ApiKeyUser>;
  getUser(id: string): Promise<ApiKeyUser | undefined>;
  listUsers(): Promise<ApiKeyUser[]>;
  /** Deletes the user and all of its keys; `false` when there was no such user. */
  removeUser(id: string): Promise<boolean>;
  /** Replaces the user's roles; `false` when there is no such user. @throws ApiKeyStoreError on bad roles. */
  setUserRoles(id: string, roles: readonly string[]): Promise<boolean>;
  /** @throws ApiKeyStoreError `ERR_KEYSTORE_INVALID_INPUT`, `ERR_KEYSTORE_USER_NOT_FOUND`. */
  createKey(input: CreateApiKeyInput): Promise<CreatedApiKey>;
  listKeys(): Promise<ApiKeyRecord[]>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Revokes at once; `false` when there is no such key or it was already revoked. */
  revokeKey(id: string): Promise<boolean>;
  /**
   * Mints a successor with the same name, user, scopes and expiry; the old key keeps working for
   * `graceMs` (0..{@link MAX_GRACE_MS}), then never again. Both writes happen in one transaction.
   *
   * @throws ApiKeyStoreError `ERR_KEYSTORE_KEY_NOT_FOUND`; `ERR_KEYSTORE_KEY_NOT_ACTIVE` for a
   *   revoked, expired or already rotated key; `ERR_KEYSTORE_INVALID_INPUT` for a bad `graceMs`.
   */
  rotateKey(id: string, graceMs: number): Promise<CreatedApiKey>;
  /** Finds a key by hash and says whether it may authenticate at `now` (epoch ms). */
  lookupByHash(hash: string, now: number): Promise<ApiKeyLookup>;
  /** The key and its user's roles, or `undefined` when unknown, revoked, expired, rotated or orphaned. */
  findActiveByHash(hash: string, now: number): Promise<ActiveApiKey | undefined>;
  /** Records a use at `at` (epoch ms); never moves `lastUsedAt` backwards. */
  touchKey(id: string, at: number): Promise<void>;
}

/**
 * Builds the key store over `db`.
 *
 * @example
 * const keys = createApiKeyStore(db);
 * await keys.createUser('alice', ['admin']);
 * const { key } = await keys.createKey({ name: 'laptop', userId: 'alice', scopes: ['mcp:read'] });
 */
export function createApiKeyStore(db: Kysely<RampartDb>, options: ApiKeyStoreOptions = {}): ApiKeyStore {
  const now = options.now ?? Date.now;

  const getUser = async (id: string): Promise<ApiKeyUser | undefined> => {
    const row = await db.selectFrom('rampart_users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, roles: parseRoles(row.roles), createdAt: Number(row.created_at) };
  };

  const getKey = async (id: string): Promise<ApiKeyRecord | undefined> => {
    const row = await db.selectFrom('api_keys').select(KEY_COLUMNS).where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  };

  const lookupByHash = async (hash: string, at: number): Promise<ApiKeyLookup> => {
    const row = await db
      .selectFrom('api_keys')
      .leftJoin('rampart_users', 'rampart_users.id', 'api_keys.user_id')
      .select([...KEY_COLUMNS, 'rampart_users.roles as user_roles'])
      .where('api_keys.hash', '=', hash)
      .executeTakeFirst();
    if (!row) return { status: 'unknown' };
    const key = toRecord(row);
    const state: ApiKeyState = decideKeyState(key, at);
    if (!canAuthenticate(state)) return { status: state as 'revoked' | 'expired' | 'rotated' };
    // Only reachable when foreign keys are off: removeUser deletes the keys itself.
    if (row.user_roles === null) return { status: 'user_removed' };
    return { status: state as 'active' | 'rotating', key, roles: parseRoles(row.user_roles) };
  };

  return {
    async createUser(id, roles) {
      const user = { id: validateUserId(id), roles: validateRoles(roles), createdAt: now() };
      const inserted = await db
        .insertInto('rampart_users')
        .values({ id: user.id, roles: JSON.stringify(user.roles), created_at: user.createdAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0)
        throw new ApiKeyStoreError('ERR_KEYSTORE_USER_EXISTS');
      return user;
    },

    getUser,

    async listUsers() {
      const rows = await db.selectFrom('rampart_users').selectAll().orderBy('id').execute();
      return rows.map((row) => ({
        id: row.id,
        roles: parseRoles(row.roles),
        createdAt: Number(row.created_at),
      }));
    },

    async removeUser(id) {
      // Keys first, explicitly, so removal does not depend on the foreign-key cascade being on.
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('api_keys').where('user_id', '=', id).execute();
        const result = await trx.deleteFrom('rampart_users').where('id', '=', id).executeTakeFirst();
        return result.numDeletedRows > 0n;
      });
    },

    async setUserRoles(id, roles) {
      const valid = validateRoles(roles);
      const result = await db
        .updateTable('rampart_users')
        .set({ roles: JSON.stringify(valid) })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async createKey(input) {
      const at = now();
      const name = validateKeyName(input.name);
      const userId = validateUserId(input.userId);
      const scopes = validateScopes(input.scopes);
      const expiresAt =
        input.expiresAt === undefined
          ? null
          : validateMs('expiresAt', input.expiresAt, at + 1, Number.MAX_SAFE_INTEGER);
      return db.transaction().execute(async (trx) => {
        const user = await trx
          .selectFrom('rampart_users')
          .select('id')
          .where('id', '=', userId)
          .executeTakeFirst();
        if (!user) throw new ApiKeyStoreError('ERR_KEYSTORE_USER_NOT_FOUND');
        return insertKey(trx, { name, userId, scopes, expiresAt, createdAt: at });
      });
    },

    async listKeys() {
      const rows = await db
        .selectFrom('api_keys')
        .select(KEY_COLUMNS)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },

    getKey,

    async revokeKey(id) {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async rotateKey(id, graceMs) {
      validateMs('graceMs', graceMs, 0, MAX_GRACE_MS);
      const at = now();
      const successorId = generateKeyId();
      return db.transaction().execute(async (trx) => {
        // The guarded UPDATE comes first: it takes the write lock at once (no read-then-upgrade
        // deadlock on SQLite) and makes two concurrent rotations of one key yield one successor.
        const old = await trx
          .updateTable('api_keys')
          .set({ replaced_by: successorId, grace_until: at + graceMs })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .where('replaced_by', 'is', null)
          .where('grace_until', 'is', null)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
          .returning(KEY_COLUMNS)
          .executeTakeFirst();
        if (!old) {
          const exists = await trx
            .selectFrom('api_keys')
            .select('id')
            .where('id', '=', id)
            .executeTakeFirst();
          throw new ApiKeyStoreError(exists ? 'ERR_KEYSTORE_KEY_NOT_ACTIVE' : 'ERR_KEYSTORE_KEY_NOT_FOUND');
        }
        const { name, userId, scopes, expiresAt } = toRecord(old);
        return insertKey(trx, { id: successorId, name, userId, scopes, expiresAt, createdAt: at });
      });
    },

    lookupByHash,

    async findActiveByHash(hash, at) {
      const found = await lookupByHash(hash, at);
      return found.status === 'active' || found.status === 'rotating'
        ? { key: found.key, roles: found.roles }
        : undefined;
    },

    async touchKey(id, at) {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute();
    },
  };
}

interface NewKey {
  readonly id?: string;
  readonly name: string;
  readonly userId: string;
  readonly scopes: string[];
  readonly expiresAt: number | null;
  readonly createdAt: number;
}

async function insertKey(db: Kysely<RampartDb>, input: NewKey): Promise<CreatedApiKey> {
  const { key, hash, displayPrefix } = generateApiKey();
  const row: KeyRow = {
    id: input.id ?? generateKeyId(),
    name: input.name,
    user_id: input.userId,
    display_prefix: displayPrefix,
    scopes: input.scopes.join(' '),
    created_at: input.createdAt,
    expires_at: input.expiresAt,
    revoked_at: null,
    replaced_by: null,
    grace_until: null,
    last_used_at: null,
  };
  await db
    .insertInto('api_keys')
    .values({ ...row, hash })
    .execute();
  return { record: toRecord(row), key };
}
