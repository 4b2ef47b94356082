import { jwtVerify } from 'jose';
import { authenticateClient } from './client-auth.js';
import { type AuthorizationServerContext, note } from './context.js';
import { OAuthError } from './errors.js';
import { oauthJson, readForm } from './responses.js';
import { digestToken } from './store.js';

/** The grant a token of ours belongs to, if it is one: an access token (JWT) or a refresh token. */
async function grantOf(
  ctx: AuthorizationServerContext,
  token: string,
): Promise<
  { grantId: string; kind: 'access_token' | 'refresh_token'; claims?: Record<string, unknown> } | undefined
> {
  if (token.split('.').length === 3) {
    try {
      const { payload } = await jwtVerify(token, ctx.keys.getKey, {
        issuer: ctx.issuer,
        typ: 'at+jwt',
        algorithms: ['ES256'],
      });
      return typeof payload.gid === 'string'
        ? { grantId: payload.gid, kind: 'access_token', claims: payload }
        : undefined;
    } catch {
      return undefined;
    }
  }
  const row = await ctx.db
    .selectFrom('oauth_refresh_tokens')
    .select(['grant_id', 'used_at', 'expires_at'])
    .where('token_hash', '=', digestToken(token))
    .executeTakeFirst();
  if (!row || row.used_at !== null || Number(row.expires_at) <= ctx.now()) return undefined;
  return { grantId: row.grant_id, kind: 'refresh_token' };
}

/**
 * RFC 7009 revocation. Revoking either kind of token revokes its grant, so the access and refresh
 * tokens issued with it stop together (§2.1 allows that). Unknown tokens get 200 as well, and a
 * client may revoke only its own tokens.
 */
export async function revocationEndpoint(
  ctx: AuthorizationServerContext,
  request: Request,
): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(ctx, request, form);
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required');
  const found = await grantOf(ctx, token);
  if (found) {
    const grant = await ctx.store.getGrant(found.grantId);
    if (grant && grant.clientId === client.clientId) {
      await ctx.store.revokeGrant(grant.id);
      ctx.onRevoke(grant.id);
      ctx.logger.info({ grantId: grant.id, clientId: client.clientId }, 'oauth grant revoked by its client');
      note(ctx, {
        event: 'oauth.grant.revoked',
        outcome: 'allow',
        reason: 'revoked by its client',
        detail: { grantId: grant.id, clientId: client.clientId },
      });
    }
  }
  return oauthJson({}, 200, ctx.baseHeaders);
}

/**
 * RFC 7662 introspection, for confidential clients only (a public client could use it as an
 * oracle for stolen tokens). Inactive, revoked, unknown and other clients' tokens all answer
 * `{"active": false}`.
 */
export async function introspectionEndpoint(
  ctx: AuthorizationServerContext,
  request: Request,
): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(ctx, request, form);
  if (client.tokenEndpointAuthMethod === 'none') {
    throw new OAuthError('invalid_client', 'introspection needs client authentication');
  }
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required');
  const found = await grantOf(ctx, token);
  const grant = found ? await ctx.store.getGrant(found.grantId) : undefined;
  if (!found || !grant || grant.revokedAt !== null || grant.clientId !== client.clientId) {
    return oauthJson({ active: false }, 200, ctx.baseHeaders);
  }
  const claims = found.claims ?? {};
  return oauthJson(
    {
      active: true,
      token_type: found.kind === 'access_token' ? 'Bearer' : 'refresh_token',
      client_id: grant.clientId,
      sub: grant.userId,
      scope: typeof claims.scope === 'string' ? claims.scope : grant.scope,
      aud: grant.resource,
      iss: ctx.issuer,
      ...(typeof claims.exp === 'number' ? { exp: claims.exp, iat: claims.iat } : {}),
    },
    200,
    ctx.baseHeaders,
  );
}
