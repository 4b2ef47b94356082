import { join } from 'node:path';
import type { Logger } from 'pino';
import type { JwtIssuerOptions } from '../auth/jwt/options.js';
import type { ResolvedConfig } from '../config/index.js';
import { ConfigError } from '../core/errors.js';
import { parseRate } from '../ratelimit/rate.js';
import { defaultSecretSources, resolveSecret } from '../secrets/index.js';
import type { OAuthClient } from './client.js';
import { redirectUriProblem } from './redirect-uri.js';
import type { AuthorizationServer, ClientMetadataDocuments } from './server.js';
import { digestToken } from './store.js';

/** The embedded authorization server as the configuration asks for it, and the verifier's view of it. */
export interface ConfiguredAuthorizationServer {
  readonly server: AuthorizationServer;
  /** The issuer entry the JWT verifier needs to accept this server's tokens. */
  readonly issuer: JwtIssuerOptions;
  close(): Promise<void>;
}

/**
 * Starts the embedded authorization server when `oauth.enabled`: its store is the Rampart database
 * in `storage.dataDir`, its issuer the public origin, its only resource the MCP endpoint.
 *
 * @throws ConfigError for a bad pre-registered client (redirect URI, secret reference).
 */
export async function authorizationServerFromConfig(
  config: ResolvedConfig,
  context: {
    publicUrl: URL;
    resourceUrl: string;
    logger: Logger;
    baseHeaders: Readonly<Record<string, string>>;
  },
): Promise<ConfiguredAuthorizationServer | undefined> {
  const oauth = config.oauth;
  if (!oauth.enabled) return undefined;
  for (const [path, text] of [
    ['oauth.registration.rate', oauth.registration.rate],
    ['oauth.signIn.failuresPerUser', oauth.signIn.failuresPerUser],
    ['oauth.signIn.failuresPerAddress', oauth.signIn.failuresPerAddress],
  ] as const) {
    if (!parseRate(text)) throw new ConfigError(path, 'must be a rate such as 10/15min');
  }
  const clients: OAuthClient[] = [];
  for (const [i, c] of oauth.clients.entries()) {
    const path = `oauth.clients[${i}]`;
    for (const uri of c.redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw new ConfigError(`${path}.redirectUris`, `a redirect URI ${problem}`);
    }
    const secret = c.clientSecret
      ? (await resolveSecret(c.clientSecret, defaultSecretSources(), `${path}.clientSecret`)).reveal()
      : undefined;
    const method = c.tokenEndpointAuthMethod ?? (secret ? 'client_secret_basic' : 'none');
    if ((method === 'none') !== (secret === undefined)) {
      throw new ConfigError(
        path,
        'a client has a clientSecret exactly when its tokenEndpointAuthMethod is not none',
      );
    }
    clients.push({
      clientId: c.clientId,
      kind: 'pre-registered',
      redirectUris: c.redirectUris,
      clientName: c.clientName,
      tokenEndpointAuthMethod: method,
      secretHash: secret ? digestToken(secret) : undefined,
      scope: c.scope,
      grantTypes: ['authorization_code', 'refresh_token'],
      createdAt: 0,
    });
  }
  const [{ openSqlite }, { migrateToLatest }, { createAuthorizationServer }] = await Promise.all([
    import('../stores/sqlite.js'),
    import('../stores/migrations.js'),
    import('./server.js'),
  ]);
  const db = openSqlite(join(config.storage.dataDir, 'rampart.db'));
  try {
    await migrateToLatest(db);
    const issuer = context.publicUrl.origin;
    const server = await createAuthorizationServer({
      issuer,
      resource: context.resourceUrl,
      db,
      logger: context.logger,
      knownScopes: config.authorization.scopes,
      scopePolicy: oauth.scopes,
      accessTokenTtlSeconds: oauth.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: oauth.refreshTokenTtlSeconds,
      codeTtlSeconds: oauth.codeTtlSeconds,
      baseHeaders: context.baseHeaders,
      preRegistered: clients,
      registration: oauth.registration,
      signIn: oauth.signIn,
      clientMetadataDocuments: oauth.clientMetadataDocuments.enabled
        ? await clientMetadataDocuments(oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses)
        : undefined,
      trustedProxies: config.server.proxy.enabled ? config.server.proxy.trustedAddresses : [],
      upstream: oauth.upstream ? await upstreamFromConfig(oauth.upstream) : undefined,
    });
    if (oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses) {
      context.logger.warn(
        'oauth.clientMetadataDocuments.dangerouslyAllowPrivateAddresses is on: development only',
      );
    }
    return {
      server,
      issuer: {
        issuer,
        getKey: server.keys.getKey,
        algorithms: ['ES256'],
        audience: context.resourceUrl,
        requiredTyp: 'at+jwt',
        rolesClaim: 'roles',
        isRevoked: (payload) => (typeof payload.gid === 'string' ? server.isGrantRevoked(payload.gid) : true),
      },
      close: async () => {
        server.close();
        await db.destroy();
      },
    };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

async function clientMetadataDocuments(allowPrivate: boolean): Promise<ClientMetadataDocuments> {
  const { createClientMetadataResolver, isClientMetadataDocumentId } = await import(
    './client-metadata-document.js'
  );
  const resolver = createClientMetadataResolver({ dangerouslyAllowPrivateAddresses: allowPrivate });
  return {
    isDocumentId: (clientId) => isClientMetadataDocumentId(clientId, allowPrivate),
    resolve: (clientId) => resolver.resolve(clientId),
  };
}

async function upstreamFromConfig(upstream: NonNullable<ResolvedConfig['oauth']['upstream']>) {
  const url = new URL(upstream.issuer);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError('oauth.upstream.issuer', 'must use https (plain http only on loopback)');
  }
  if ((upstream.tokenEndpointAuthMethod === 'none') !== (upstream.clientSecret === undefined)) {
    throw new ConfigError(
      'oauth.upstream',
      'set clientSecret exactly when tokenEndpointAuthMethod is not none',
    );
  }
  const secret = upstream.clientSecret
    ? (
        await resolveSecret(upstream.clientSecret, defaultSecretSources(), 'oauth.upstream.clientSecret')
      ).reveal()
    : undefined;
  const { createUpstream } = await import('./upstream.js');
  return createUpstream({ ...upstream, clientSecret: secret });
}
