import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { RampartDb } from '../stores/schema.js';
import type { OAuthClient } from './client.js';

/** A user's approval of a client, which every code and token hangs on. */
export interface Grant {
  readonly id: string;
  readonly userId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly resource: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** A consumed authorization code: what it was bound to. */
export interface CodeBinding {
  readonly grantId: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
}

/** The outcome of consuming a one-time value (code or refresh token). */
export type Consumed<T> =
  | { readonly ok: true; readonly value: T }
  /** Never issued (or long purged). */
  | { readonly ok: false; readonly reason: 'unknown' }
  /** Used before: the grant it belongs to is named so that the caller can revoke it. */
  | { readonly ok: false; readonly reason: 'replayed'; readonly grantId: string };

/**
 * Storage of the embedded authorization server. Every one-time value is consumed by a single
 * conditional update (`used_at IS NULL`), so two concurrent requests can never both win, on SQLite
 * or PostgreSQL alike. Codes and refresh tokens are stored by SHA-256 only: they are 256-bit
 * random values, so a fast hash is as good as a slow one and a stolen table yields nothing usable.
 */
export interface OAuthStore {
  putClient(client: OAuthClient): Promise<void>;
  getClient(clientId: string): Promise<OAuthClient | undefined>;
  createGrant(grant: Omit<Grant, 'id' | 'createdAt' | 'revokedAt'>): Promise<Grant>;
  getGrant(id: string): Promise<Grant | undefined>;
  /** Revokes a grant and with it every code and refresh token issued from it. */
  revokeGrant(id: string): Promise<void>;
  putCode(code: string, binding: CodeBinding): Promise<void>;
  consumeCode(code: string): Promise<Consumed<CodeBinding>>;
  putRefreshToken(token: string, grantId: string, expiresAt: number): Promise<void>;
  consumeRefreshToken(token: string): Promise<Consumed<{ grantId: string; expiresAt: number }>>;
  /**
   * Short-lived state of the browser flow, in the database so that any instance can take the next
   * step. `put` inserts or replaces; `take` is an atomic get-and-delete that ignores expired entries.
   */
  putPending(id: string, value: unknown, expiresAt: number): Promise<void>;
  takePending<T>(id: string): Promise<T | undefined>;
  /** Forgets codes and refresh tokens that expired more than a day ago, and expired pending state. */
  purgeExpired(): Promise<void>;
}

/** A SHA-256 hex digest, the stored form of codes and refresh tokens. */
export function digestToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The {@link OAuthStore} on a Rampart database (SQLite or PostgreSQL through kysely). */
export function createSqlOAuthStore(db: Kysely<RampartDb>, now: () => number = Date.now): OAuthStore {
  return {
    async putClient(client) {
      await db
        .insertInto('oauth_clients')
        .values({ client_id: client.clientId, record: JSON.stringify(client), created_at: client.createdAt })
        .onConflict((oc) => oc.column('client_id').doUpdateSet({ record: JSON.stringify(client) }))
        .execute();
    },
    async getClient(clientId) {
      const row = await db
        .selectFrom('oauth_clients')
        .select('record')
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row ? (JSON.parse(row.record) as OAuthClient) : undefined;
    },
    async createGrant(input) {
      const grant: Grant = { ...input, id: randomUUID(), createdAt: now(), revokedAt: null };
      await db
        .insertInto('oauth_grants')
        .values({
          id: grant.id,
          user_id: grant.userId,
          client_id: grant.clientId,
          scope: grant.scope,
          resource: grant.resource,
          created_at: grant.createdAt,
          revoked_at: null,
        })
        .execute();
      return grant;
    },
    async getGrant(id) {
      const row = await db.selectFrom('oauth_grants').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id,
        userId: row.user_id,
        clientId: row.client_id,
        scope: row.scope,
        resource: row.resource,
        createdAt: Number(row.created_at),
        revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
      };
    },
    async revokeGrant(id) {
      const at = now();
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('oauth_grants')
          .set({ revoked_at: at })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
        // Unused codes and refresh tokens of the grant die with it.
        await tx
          .updateTable('oauth_codes')
          .set({ used_at: at })
          .where('grant_id', '=', id)
          .where('used_at', 'is', null)
          .execute();
        await tx
          .updateTable('oauth_refresh_tokens')
          .set({ used_at: at })
          .where('grant_id', '=', id)
          .where('used_at', 'is', null)
          .execute();
      });
    },
    async putCode(code, binding) {
      await db
        .insertInto('oauth_codes')
        .values({
          code_hash: digestToken(code),
          grant_id: binding.grantId,
          client_id: binding.clientId,
          redirect_uri: binding.redirectUri,
          code_challenge: binding.codeChallenge,
          expires_at: binding.expiresAt,
          used_at: null,
        })
        .execute();
    },
    async consumeCode(code) {
      const hash = digestToken(code);
      const row = await db
        .updateTable('oauth_codes')
        .set({ used_at: now() })
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (row) {
        return {
          ok: true,
          value: {
            grantId: row.grant_id,
            clientId: row.client_id,
            redirectUri: row.redirect_uri,
            codeChallenge: row.code_challenge,
            expiresAt: Number(row.expires_at),
          },
        };
      }
      const used = await db
        .selectFrom('oauth_codes')
        .select('grant_id')
        .where('code_hash', '=', hash)
        .executeTakeFirst();
      return used
        ? { ok: false, reason: 'replayed', grantId: used.grant_id }
        : { ok: false, reason: 'unknown' };
    },
    async putRefreshToken(token, grantId, expiresAt) {
      await db
        .insertInto('oauth_refresh_tokens')
        .values({ token_hash: digestToken(token), grant_id: grantId, expires_at: expiresAt, used_at: null })
        .execute();
    },
    async consumeRefreshToken(token) {
      const hash = digestToken(token);
      const row = await db
        .updateTable('oauth_refresh_tokens')
        .set({ used_at: now() })
        .where('token_hash', '=', hash)
        .where('used_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (row) return { ok: true, value: { grantId: row.grant_id, expiresAt: Number(row.expires_at) } };
      const used = await db
        .selectFrom('oauth_refresh_tokens')
        .select('grant_id')
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      return used
        ? { ok: false, reason: 'replayed', grantId: used.grant_id }
        : { ok: false, reason: 'unknown' };
    },
    async putPending(id, value, expiresAt) {
      const data = JSON.stringify(value);
      await db
        .insertInto('oauth_pending')
        .values({ id, data, expires_at: expiresAt })
        .onConflict((oc) => oc.column('id').doUpdateSet({ data, expires_at: expiresAt }))
        .execute();
    },
    async takePending<T>(id: string) {
      const row = await db
        .deleteFrom('oauth_pending')
        .where('id', '=', id)
        .where('expires_at', '>', now())
        .returning('data')
        .executeTakeFirst();
      return row ? (JSON.parse(row.data) as T) : undefined;
    },
    async purgeExpired() {
      await db.deleteFrom('oauth_pending').where('expires_at', '<=', now()).execute();
      const before = now() - 86_400_000;
      await db.deleteFrom('oauth_codes').where('expires_at', '<', before).execute();
      await db.deleteFrom('oauth_refresh_tokens').where('expires_at', '<', before).execute();
    },
  };
}
