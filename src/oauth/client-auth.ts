import { timingSafeEqual } from 'node:crypto';
import type { OAuthClient } from './client.js';
import type { AuthorizationServerContext } from './context.js';
import { OAuthError } from './errors.js';
import { digestToken } from './store.js';

/**
 * Identifies and authenticates the client of a token, revocation or introspection request:
 * `client_secret_basic`, `client_secret_post`, or a public client naming itself with `client_id`.
 * A client must use the method it registered; mixing methods is refused (RFC 6749 §2.3).
 */
export async function authenticateClient(
  ctx: AuthorizationServerContext,
  request: Request,
  form: Map<string, string>,
): Promise<OAuthClient> {
  const header = request.headers.get('authorization');
  let clientId: string | undefined;
  let secret: string | undefined;
  let method: OAuthClient['tokenEndpointAuthMethod'];
  if (header !== null) {
    const match = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header);
    if (!match || form.has('client_secret'))
      throw new OAuthError('invalid_client', 'client authentication failed');
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'client authentication failed');
    // RFC 6749 §2.3.1: both parts are form-urlencoded inside the header.
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_client', 'client authentication failed');
    }
    if (form.has('client_id') && form.get('client_id') !== clientId) {
      throw new OAuthError('invalid_client', 'client authentication failed');
    }
    method = 'client_secret_basic';
  } else if (form.has('client_secret')) {
    clientId = form.get('client_id');
    secret = form.get('client_secret');
    method = 'client_secret_post';
  } else {
    clientId = form.get('client_id');
    method = 'none';
  }
  if (!clientId) throw new OAuthError('invalid_client', 'client authentication failed');
  const client = await ctx.findClient(clientId);
  if (!client || client.tokenEndpointAuthMethod !== method) {
    throw new OAuthError('invalid_client', 'client authentication failed');
  }
  if (method !== 'none') {
    const expected = Buffer.from(client.secretHash ?? '', 'hex');
    const actual = Buffer.from(digestToken(secret ?? ''), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new OAuthError('invalid_client', 'client authentication failed');
    }
  }
  return client;
}
