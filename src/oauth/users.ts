import type { Kysely } from 'kysely';
import type { RampartDb } from '../stores/schema.js';
import { hashPassword, verifyPassword } from './password.js';

/** A user who signed in on the login page. */
export interface SignedInUser {
  readonly id: string;
  readonly roles: readonly string[];
}

/** Sets (or replaces) a user's login password; `false` when there is no such user. */
export async function setUserPassword(
  db: Kysely<RampartDb>,
  userId: string,
  password: string,
): Promise<boolean> {
  if (password.length < 8 || password.length > 1024)
    throw new RangeError('a password has 8 to 1024 characters');
  const result = await db
    .updateTable('rampart_users')
    .set({ password_hash: await hashPassword(password) })
    .where('id', '=', userId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * The user if `password` is theirs. An unknown user, a user without a password and a wrong
 * password cost the same scrypt work and give the same `undefined`.
 */
export async function signIn(
  db: Kysely<RampartDb>,
  userId: string,
  password: string,
): Promise<SignedInUser | undefined> {
  const row =
    userId.length > 0 && userId.length <= 128
      ? await db
          .selectFrom('rampart_users')
          .select(['id', 'roles', 'password_hash'])
          .where('id', '=', userId)
          .executeTakeFirst()
      : undefined;
  const ok = await verifyPassword(password, row?.password_hash ?? null);
  if (!ok || !row) return undefined;
  const roles = JSON.parse(row.roles) as unknown;
  return {
    id: row.id,
    roles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [],
  };
}

/**
 * Creates or updates the Rampart user behind an upstream identity. The provider is the source of
 * truth for roles, so they are replaced on every sign-in; such a user has no local password.
 */
export async function upsertUpstreamUser(
  db: Kysely<RampartDb>,
  identity: { readonly userId: string; readonly roles: readonly string[] },
  now: number,
): Promise<SignedInUser> {
  const roles = JSON.stringify(identity.roles);
  await db
    .insertInto('rampart_users')
    .values({ id: identity.userId, roles, created_at: now, password_hash: null })
    .onConflict((oc) => oc.column('id').doUpdateSet({ roles }))
    .execute();
  return { id: identity.userId, roles: identity.roles };
}
