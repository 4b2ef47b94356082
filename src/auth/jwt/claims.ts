import type { JWTPayload } from 'jose';

const MAX_ENTRIES = 256;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/**
 * Reads a list claim that may be a space-separated string (`scope`, RFC 8693 §4.2) or an array of
 * strings (`scp`, `roles`, `cognito:groups`). Hostile shapes yield nothing rather than an error:
 * non-strings are skipped and the list is capped.
 */
export function readListClaim(payload: JWTPayload, claim: string): string[] {
  const value = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
  const items = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
  const out = new Set<string>();
  for (const item of items) {
    if (out.size >= MAX_ENTRIES) break;
    if (typeof item === 'string' && SCOPE_TOKEN.test(item)) out.add(item);
  }
  return [...out];
}

/** The first string among the named claims (for `client_id`, then `azp`). */
export function readStringClaim(payload: JWTPayload, claims: readonly string[]): string | undefined {
  for (const claim of claims) {
    const value = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
    if (typeof value === 'string' && value.length > 0 && value.length <= 256) return value;
  }
  return undefined;
}
