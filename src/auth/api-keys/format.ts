import { createHash } from 'node:crypto';

/**
 * What every Rampart API key starts with. A fixed prefix lets secret scanners (GitHub push
 * protection, trufflehog, gitleaks) and the authenticator recognise a key without a database.
 */
export const API_KEY_PREFIX = 'rmp_';

/** Random bytes in a key: 256 bits, as the issue requires. */
export const API_KEY_SECRET_BYTES = 32;

/** Length of a key: `rmp_` + 43 base64url characters + `_` + 6 checksum characters. */
export const API_KEY_LENGTH = 54;

const BODY_LENGTH = 43; // ceil(32 * 8 / 6): base64url without padding (RFC 4648 §5)
const CHECKSUM_LENGTH = 6;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'; // RFC 4648 §6 alphabet, lower case
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// 256 bits leave 4 bits for the last of 43 characters, so its 2 low bits are zero: only these 16
// characters can end a canonical encoding. Rejecting the others keeps one spelling per key.
const KEY_SHAPE = /^rmp_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]_[0-9A-Za-z]{6}$/;
const KEY_ID_SHAPE = /^key_[a-z2-7]{16}$/;

/** A freshly minted key. `key` is shown once; only `hash` and `displayPrefix` are stored. */
export interface GeneratedApiKey {
  /** The secret, `rmp_<43 base64url chars>_<6 checksum chars>`. */
  readonly key: string;
  /** {@link hashApiKey} of `key`: what the store keeps and looks keys up by. */
  readonly hash: string;
  /** `rmp_` and the first 6 characters of the body (36 of 256 bits), to tell keys apart in lists. */
  readonly displayPrefix: string;
}

/**
 * Mints a new API key from 32 bytes of `crypto.getRandomValues`.
 *
 * @example
 * const { key, hash, displayPrefix } = generateApiKey();
 */
export function generateApiKey(): GeneratedApiKey {
  return encodeApiKey(crypto.getRandomValues(new Uint8Array(API_KEY_SECRET_BYTES)));
}

/**
 * Formats 32 secret bytes as a key. Exposed for tests and fixtures; use {@link generateApiKey}.
 *
 * @throws TypeError when `secret` is not exactly 32 bytes.
 */
export function encodeApiKey(secret: Uint8Array): GeneratedApiKey {
  if (secret.length !== API_KEY_SECRET_BYTES) throw new TypeError('an API key secret is exactly 32 bytes');
  const body = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('base64url');
  const key = `${API_KEY_PREFIX}${body}_${checksum(body)}`;
  return { key, hash: hashApiKey(key), displayPrefix: `${API_KEY_PREFIX}${body.slice(0, 6)}` };
}

/**
 * Cheap, database-free syntax check: prefix, length, alphabet, canonical encoding and checksum.
 * A typo, a truncated paste or a made-up string fails here and never reaches the store.
 */
export function isApiKeyShaped(value: string): boolean {
  if (value.length !== API_KEY_LENGTH || !KEY_SHAPE.test(value)) return false;
  const body = value.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + BODY_LENGTH);
  return value.slice(-CHECKSUM_LENGTH) === checksum(body);
}

/**
 * The stored form of a key: SHA-256, hex encoded.
 *
 * Why a fast hash is right here, unlike for passwords: a password has perhaps 30-40 bits of
 * entropy, so whoever steals the hashes can try every likely password offline, and a slow KDF
 * (scrypt, Argon2) multiplies the cost of each guess. An API key is 256 uniformly random bits:
 * a stolen hash can only be reversed by searching 2^256 keys, which no work factor makes harder
 * in any way that matters, while a KDF tuned for passwords would add ~50-100 ms of CPU to every
 * authenticated request and hand attackers a cheap denial of service. A pepper buys nothing for
 * the same reason. Keys are looked up by hash in a unique index, so no secret is ever compared in
 * application code and there is no timing oracle on the comparison.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Mints a key id, `key_` + 16 base32 characters (80 random bits). Ids are public: they appear
 * in lists, logs, the audit trail and `Principal.keyId`.
 */
export function generateKeyId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let out = 'key_';
  // 10 bytes = 80 bits = exactly 16 groups of 5 bits.
  let bits = 0;
  let acc = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

/** Whether `value` has the shape of a key id (it may still not exist). */
export function isKeyId(value: string): boolean {
  return KEY_ID_SHAPE.test(value);
}

// CRC-32 (the zlib polynomial) of the prefixed body, as 6 base62 characters, like GitHub's token
// checksums: a scanner can confirm a candidate offline with ~1 in 4*10^9 false positives, and a CRC
// catches every error burst up to 32 bits, so any single changed character is always detected.
function checksum(body: string): string {
  let n = crc32(`${API_KEY_PREFIX}${body}`);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

let crcTable: Uint32Array | undefined;

// Keys are ASCII, so a character is a byte.
function crc32(ascii: string): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < ascii.length; i++) crc = crcTable[(crc ^ ascii.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
