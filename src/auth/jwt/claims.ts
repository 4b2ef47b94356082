import type { JWTPayload } from 'jose';
import type { ResolvedIssuer } from './options.js';

/** At most this many entries of a list claim are examined; the rest are ignored. */
export const MAX_LIST_ENTRIES = 256;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/;
// Roles and identifiers: printable text without control characters, bounded.
const PRINTABLE = /^\P{Cc}{1,256}$/u;

/** What a verified token says about its holder: the claims Rampart keeps, already checked. */
export interface TokenClaims {
  readonly subject: string;
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** `exp` in epoch ms. */
  readonly expiresAt: number;
}

/**
 * Reads the claims a principal is made of from a verified payload, or `undefined` when the
 * subject is unusable. Hostile shapes in optional claims are dropped, never thrown on.
 */
export function readTokenClaims(payload: JWTPayload, issuer: ResolvedIssuer): TokenClaims | undefined {
  const subject = ownValue(payload, 'sub');
  // RFC 9068 §2.2 makes `sub` required; OIDC Core §2 bounds it to 255 characters.
  if (typeof subject !== 'string' || subject.length > 255 || !PRINTABLE.test(subject)) return undefined;
  let scopes = readListClaim(payload, issuer.scopeClaim, SCOPE_TOKEN);
  // Some issuers (Entra ID, Okta) put scopes in `scp`, often as an array.
  if (issuer.scopeClaim === 'scope' && !Object.hasOwn(payload, 'scope'))
    scopes = readListClaim(payload, 'scp', SCOPE_TOKEN);
  return {
    subject,
    clientId: readStringClaim(payload, issuer.clientIdClaims),
    scopes,
    roles: issuer.rolesClaim === undefined ? [] : readListClaim(payload, issuer.rolesClaim, PRINTABLE),
    // A finite `exp` near Number.MAX_VALUE overflows to Infinity in ms: cap at the largest safe integer.
    expiresAt: Math.min((payload.exp as number) * 1000, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * Reads a list claim that is either a space-separated string (`scope`, RFC 8693 §4.2) or an array
 * of strings (`scp`, `roles`, `cognito:groups`). Only the first {@link MAX_LIST_ENTRIES} entries
 * are examined; entries that are not strings matching `entry` are skipped; duplicates collapse.
 */
export function readListClaim(payload: JWTPayload, claim: string, entry: RegExp = SCOPE_TOKEN): string[] {
  const value = ownValue(payload, claim);
  let items: readonly unknown[];
  if (typeof value === 'string') items = value.split(' ', MAX_LIST_ENTRIES);
  else if (Array.isArray(value)) items = value.slice(0, MAX_LIST_ENTRIES);
  else return [];
  const out = new Set<string>();
  for (const item of items) {
    if (typeof item === 'string' && entry.test(item)) out.add(item);
  }
  return [...out];
}

/** The first of the named claims that holds a short printable string (`client_id`, then `azp`). */
export function readStringClaim(payload: JWTPayload, claims: readonly string[]): string | undefined {
  for (const claim of claims) {
    const value = ownValue(payload, claim);
    if (typeof value === 'string' && PRINTABLE.test(value)) return value;
  }
  return undefined;
}

function ownValue(payload: JWTPayload, claim: string): unknown {
  // The payload is parsed JSON: only its own members count, never Object.prototype's.
  return Object.hasOwn(payload, claim) ? payload[claim] : undefined;
}
