import { timingSafeEqual } from 'node:crypto';
import type { OAuthClient } from './client.js';

/** What the consent page calls a client without a name: its metadata document's host, or a plain label. */
export function clientLabel(client: OAuthClient): string {
  return URL.canParse(client.clientId) ? new URL(client.clientId).host : 'An unnamed application';
}

/** The CSP `form-action` source of a redirect URI: its origin, or its scheme for a private-use one. */
export function formTargetOf(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.origin !== 'null' ? url.origin : url.protocol;
}

/** A cookie's value from a `Cookie` header. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
