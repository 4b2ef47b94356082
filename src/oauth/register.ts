import { randomBytes } from 'node:crypto';
import type { OAuthClient } from './client.js';
import type { AuthorizationServerContext } from './context.js';
import { OAuthError } from './errors.js';
import { redirectUriProblem } from './redirect-uri.js';
import { readCappedText } from './responses.js';
import { digestToken } from './store.js';

const MAX_BODY_BYTES = 8192;
const AUTH_METHODS = new Set(['none', 'client_secret_basic', 'client_secret_post']);
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

/**
 * Dynamic Client Registration (RFC 7591). Deprecated by the MCP spec in favour of client metadata
 * documents, and still what most clients do. Public clients (`none`) get no secret; confidential
 * ones get a secret shown once and stored as a SHA-256 hash (a 256-bit random secret needs no
 * slow hash). Dangerous or ambiguous redirect URIs are refused.
 */
export async function registerClient(ctx: AuthorizationServerContext, request: Request): Promise<Response> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new OAuthError('invalid_client_metadata', 'the body must be application/json');
  const text = await readCappedText(request, MAX_BODY_BYTES, 'invalid_client_metadata');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OAuthError('invalid_client_metadata', 'the body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new OAuthError('invalid_client_metadata', 'the body must be a JSON object');
  }
  const meta = body as Record<string, unknown>;
  const redirectUris = meta.redirect_uris;
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.length > 10) {
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris must list 1 to 10 URIs');
  }
  for (const uri of redirectUris) {
    const problem = typeof uri === 'string' ? redirectUriProblem(uri) : 'must be a string';
    if (problem) throw new OAuthError('invalid_redirect_uri', `a redirect URI ${problem}`);
  }
  const authMethod = meta.token_endpoint_auth_method ?? 'none';
  if (typeof authMethod !== 'string' || !AUTH_METHODS.has(authMethod)) {
    throw new OAuthError(
      'invalid_client_metadata',
      'token_endpoint_auth_method must be none, client_secret_basic or client_secret_post',
    );
  }
  const grantTypes = meta.grant_types ?? ['authorization_code', 'refresh_token'];
  if (!Array.isArray(grantTypes) || !grantTypes.every((g) => typeof g === 'string' && GRANT_TYPES.has(g))) {
    throw new OAuthError(
      'invalid_client_metadata',
      'grant_types may hold only authorization_code and refresh_token',
    );
  }
  const responseTypes = meta.response_types ?? ['code'];
  if (!Array.isArray(responseTypes) || responseTypes.some((r) => r !== 'code')) {
    throw new OAuthError('invalid_client_metadata', 'response_types may hold only code');
  }
  const clientName = optionalString(meta.client_name, 'client_name', 200);
  const clientUri = optionalUrl(meta.client_uri, 'client_uri');
  const logoUri = optionalUrl(meta.logo_uri, 'logo_uri');
  const scope = optionalString(meta.scope, 'scope', 1000);

  const clientId = `rc_${randomBytes(16).toString('base64url')}`;
  const secret = authMethod === 'none' ? undefined : `rcs_${randomBytes(32).toString('base64url')}`;
  const client: OAuthClient = {
    clientId,
    kind: 'dynamic',
    redirectUris: redirectUris as string[],
    clientName,
    clientUri,
    logoUri,
    tokenEndpointAuthMethod: authMethod as OAuthClient['tokenEndpointAuthMethod'],
    secretHash: secret ? digestToken(secret) : undefined,
    scope,
    grantTypes: grantTypes as string[],
    createdAt: ctx.now(),
  };
  // On record first: a registration the trail cannot keep does not happen (503 from the caller).
  try {
    await ctx.audit({
      event: 'oauth.client.registered',
      outcome: 'allow',
      detail: { clientId, clientName, redirectUris: client.redirectUris, authMethod },
    });
  } catch (cause) {
    throw new OAuthError('temporarily_unavailable', 'the server cannot record the registration', { cause });
  }
  await ctx.store.putClient(client);
  ctx.logger.info({ clientId, clientName, redirectUris: client.redirectUris }, 'oauth client registered');
  return new Response(
    JSON.stringify({
      client_id: clientId,
      client_id_issued_at: Math.floor(client.createdAt / 1000),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      redirect_uris: client.redirectUris,
      token_endpoint_auth_method: authMethod,
      grant_types: client.grantTypes,
      response_types: ['code'],
      ...(clientName ? { client_name: clientName } : {}),
      ...(clientUri ? { client_uri: clientUri } : {}),
      ...(logoUri ? { logo_uri: logoUri } : {}),
      ...(scope ? { scope } : {}),
    }),
    {
      status: 201,
      headers: { ...ctx.baseHeaders, 'content-type': 'application/json', 'cache-control': 'no-store' },
    },
  );
}

function optionalString(value: unknown, name: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw new OAuthError('invalid_client_metadata', `${name} must be a string of at most ${max} characters`);
  }
  return value;
}

function optionalUrl(value: unknown, name: string): string | undefined {
  const text = optionalString(value, name, 2048);
  if (text === undefined) return undefined;
  if (!URL.canParse(text) || new URL(text).protocol !== 'https:') {
    throw new OAuthError('invalid_client_metadata', `${name} must be an https URL`);
  }
  return text;
}
