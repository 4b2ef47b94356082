import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// scrypt is memory-hard: a password is low-entropy, so each guess must cost real memory and time.
// N=2^15, r=8 needs 32 MiB and ~50-100 ms here; parameters are stored with the hash, so they can
// be raised later without invalidating existing hashes.
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, { N: n, r, p, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes a password as `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** A hash to compare against when the user does not exist, so that timing does not tell. */
let dummyHash: Promise<string> | undefined;

/**
 * Checks a password against a stored hash in constant time. With no hash (unknown user, or a user
 * without a password) it still spends the same work, then answers false.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  if (password.length > 1024) return false;
  if (!stored) dummyHash ??= hashPassword('not a password');
  const effective = stored ?? (await (dummyHash as Promise<string>));
  const parts = effective.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![n, r, p].every(Number.isSafeInteger) || n > 2 ** 20 || r > 32 || p > 4) return false;
  const salt = Buffer.from(parts[4] as string, 'base64url');
  const expected = Buffer.from(parts[5] as string, 'base64url');
  const actual = await derive(password, salt, n, r, p);
  return (
    stored !== null &&
    stored !== undefined &&
    actual.length === expected.length &&
    timingSafeEqual(actual, expected)
  );
}
