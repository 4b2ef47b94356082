import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import type { Kysely } from 'kysely';
import type { RampartDb } from '../stores/schema.js';

/** Retired keys stay published this long, so tokens they signed verify until they expire. */
const RETIRED_PUBLISHED_MS = 24 * 3_600_000;
/** Least time between reloads from the database for a `kid` not known here (another process rotated). */
const RELOAD_COOLDOWN_MS = 5000;
/** Keys are re-read this often, so a rotation by `rampart oauth rotate-key` reaches a running server. */
const REFRESH_MS = 60_000;
const ALG = 'ES256';

/** The authorization server's signing keys: sign with the newest, publish the rest while useful. */
export interface SigningKeys {
  /** Signs an RFC 9068 access token (`typ: at+jwt`) with the current key. */
  signAccessToken(claims: JWTPayload): Promise<string>;
  /** The public JWKS: the current key and keys retired in the last 24 h. */
  jwks(): Promise<{ keys: JWK[] }>;
  /** For the in-process verifier: resolves a token's key from this set, reloading for a new `kid`. */
  readonly getKey: JWTVerifyGetKey;
  /** Makes a new current key; the old one stays published for 24 h. */
  rotate(): Promise<string>;
}

interface KeyRow {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: number;
  retiredAt: number | null;
}

/**
 * Opens the signing keys kept in the Rampart database, creating the first one on first start.
 * The private keys live in the database file, which `openSqlite` creates with mode 0600, like the
 * audit key beside it; they never appear in configuration.
 */
export async function openSigningKeys(
  db: Kysely<RampartDb>,
  now: () => number = Date.now,
): Promise<SigningKeys> {
  let rows: KeyRow[] = [];
  let localSet: JWTVerifyGetKey = createLocalJWKSet({ keys: [] });
  let lastReload = 0;
  let signer: { kid: string; key: CryptoKey | Uint8Array } | undefined;

  async function load(): Promise<void> {
    const found = await db
      .selectFrom('oauth_signing_keys')
      .selectAll()
      .where((eb) =>
        eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', now() - RETIRED_PUBLISHED_MS)]),
      )
      .orderBy('created_at', 'desc')
      .execute();
    rows = found.map((r) => ({
      kid: r.kid,
      privateJwk: JSON.parse(r.private_jwk) as JWK,
      publicJwk: JSON.parse(r.public_jwk) as JWK,
      createdAt: Number(r.created_at),
      retiredAt: r.retired_at === null ? null : Number(r.retired_at),
    }));
    localSet = createLocalJWKSet({ keys: rows.map((r) => r.publicJwk) });
    const current = rows.find((r) => r.retiredAt === null);
    signer = current ? { kid: current.kid, key: await importJWK(current.privateJwk, ALG) } : undefined;
    lastReload = now();
  }

  async function addKey(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
    const at = now();
    await db.transaction().execute(async (tx) => {
      await tx
        .updateTable('oauth_signing_keys')
        .set({ retired_at: at })
        .where('retired_at', 'is', null)
        .execute();
      await tx
        .insertInto('oauth_signing_keys')
        .values({
          kid,
          private_jwk: JSON.stringify(privateJwk),
          public_jwk: JSON.stringify(publicJwk),
          created_at: at,
          retired_at: null,
        })
        .execute();
    });
    await load();
    return kid;
  }

  await load();
  if (!signer) await addKey();

  /** Re-reads the keys when the last read is older than {@link REFRESH_MS}; one read at a time. */
  let refreshing: Promise<void> | undefined;
  async function fresh(): Promise<void> {
    if (now() - lastReload < REFRESH_MS) return;
    refreshing ??= load().finally(() => {
      refreshing = undefined;
    });
    await refreshing;
  }

  return {
    async signAccessToken(claims) {
      await fresh();
      if (!signer) throw new Error('no signing key');
      return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, typ: 'at+jwt', kid: signer.kid })
        .sign(signer.key);
    },
    async jwks() {
      await fresh();
      return { keys: rows.map((r) => r.publicJwk) };
    },
    getKey: async (header, token) => {
      if (header.kid && !rows.some((r) => r.kid === header.kid) && now() - lastReload >= RELOAD_COOLDOWN_MS) {
        await load();
      }
      return localSet(header, token);
    },
    rotate: addKey,
  };
}
