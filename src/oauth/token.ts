import { randomBytes, randomUUID } from 'node:crypto';
import type { OAuthClient } from './client.js';
import { authenticateClient } from './client-auth.js';
import { type AuthorizationServerContext, note } from './context.js';
import { OAuthError } from './errors.js';
import { verifyPkce } from './pkce.js';
import { oauthJson, readForm } from './responses.js';
import type { Grant } from './store.js';

/**
 * `/oauth/token` (RFC 6749 §3.2 with the OAuth 2.1 rules): the authorization code grant with PKCE,
 * and refresh tokens that rotate on every use. A code is single-use and bound to its client,
 * redirect URI, PKCE challenge and resource; a replayed code or reused refresh token revokes the
 * whole grant, since one of the two presenters is an attacker.
 */
export async function tokenEndpoint(ctx: AuthorizationServerContext, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(ctx, request, form);
  const grantType = form.get('grant_type');
  if (!client.grantTypes.includes(grantType ?? '')) {
    if (grantType === 'authorization_code' || grantType === 'refresh_token') {
      throw new OAuthError('unauthorized_client', 'the client may not use this grant type');
    }
    throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }
  const resource = form.get('resource');
  if (resource !== undefined && resource !== ctx.resource) {
    throw new OAuthError('invalid_target', 'resource is not this server');
  }
  const grant =
    grantType === 'authorization_code'
      ? await redeemCode(ctx, client, form)
      : await refresh(ctx, client, form);
  return issueTokens(ctx, grant, form.get('scope'));
}

async function redeemCode(
  ctx: AuthorizationServerContext,
  client: OAuthClient,
  form: Map<string, string>,
): Promise<Grant> {
  const code = form.get('code');
  const verifier = form.get('code_verifier');
  if (!code) throw new OAuthError('invalid_request', 'code is required');
  if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
  const consumed = await ctx.store.consumeCode(code);
  if (!consumed.ok) {
    if (consumed.reason === 'replayed') {
      await revoke(ctx, consumed.grantId, 'authorization code replayed');
    }
    throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or used');
  }
  const bound = consumed.value;
  if (bound.expiresAt <= ctx.now())
    throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or used');
  if (bound.clientId !== client.clientId) {
    // Another client holds this client's code: it leaked. Nothing issued from it may stand.
    await revoke(ctx, bound.grantId, 'authorization code presented by another client');
    throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or used');
  }
  if (form.get('redirect_uri') !== bound.redirectUri) {
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
  }
  if (!verifyPkce(verifier, bound.codeChallenge)) {
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  }
  return liveGrant(ctx, bound.grantId);
}

async function refresh(
  ctx: AuthorizationServerContext,
  client: OAuthClient,
  form: Map<string, string>,
): Promise<Grant> {
  const token = form.get('refresh_token');
  if (!token) throw new OAuthError('invalid_request', 'refresh_token is required');
  const consumed = await ctx.store.consumeRefreshToken(token);
  if (!consumed.ok) {
    if (consumed.reason === 'replayed') await revoke(ctx, consumed.grantId, 'refresh token reused');
    throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or used');
  }
  if (consumed.value.expiresAt <= ctx.now()) {
    throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or used');
  }
  const grant = await liveGrant(ctx, consumed.value.grantId);
  if (grant.clientId !== client.clientId) {
    await revoke(ctx, grant.id, 'refresh token presented by another client');
    throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or used');
  }
  return grant;
}

async function liveGrant(ctx: AuthorizationServerContext, id: string): Promise<Grant> {
  const grant = await ctx.store.getGrant(id);
  if (!grant || grant.revokedAt !== null) throw new OAuthError('invalid_grant', 'the grant was revoked');
  return grant;
}

async function revoke(ctx: AuthorizationServerContext, grantId: string, why: string): Promise<void> {
  await ctx.store.revokeGrant(grantId);
  ctx.onRevoke(grantId);
  ctx.logger.warn({ grantId, why }, 'oauth grant revoked');
  note(ctx, { event: 'oauth.grant.revoked', outcome: 'deny', reason: why, detail: { grantId } });
}

async function issueTokens(
  ctx: AuthorizationServerContext,
  grant: Grant,
  requestedScope: string | undefined,
): Promise<Response> {
  const granted = grant.scope.split(' ');
  let scope = granted;
  if (requestedScope !== undefined) {
    // A client may narrow its scope for one token (RFC 6749 §6), never widen it.
    const asked = requestedScope.split(' ').filter((s) => s && s !== 'offline_access');
    if (!asked.every((s) => granted.includes(s)))
      throw new OAuthError('invalid_scope', 'the scope exceeds the grant');
    if (asked.length > 0) scope = asked;
  }
  const user = await ctx.db
    .selectFrom('rampart_users')
    .select(['roles'])
    .where('id', '=', grant.userId)
    .executeTakeFirst();
  if (!user) throw new OAuthError('invalid_grant', 'the grant was revoked');
  const roles = JSON.parse(user.roles) as string[];
  const now = Math.floor(ctx.now() / 1000);
  const accessToken = await ctx.keys.signAccessToken({
    iss: ctx.issuer,
    sub: grant.userId,
    aud: grant.resource,
    client_id: grant.clientId,
    scope: scope.join(' '),
    roles,
    gid: grant.id,
    jti: randomUUID(),
    iat: now,
    exp: now + ctx.accessTokenTtlSeconds,
  });
  const refreshToken = randomBytes(32).toString('base64url');
  await ctx.store.putRefreshToken(refreshToken, grant.id, ctx.now() + ctx.refreshTokenTtlSeconds * 1000);
  return oauthJson(
    {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ctx.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope: scope.join(' '),
    },
    200,
    ctx.baseHeaders,
  );
}
