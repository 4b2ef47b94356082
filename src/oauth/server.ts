import { Hono } from 'hono';
import type { AuditEntry } from '../audit/record.js';
import { addressBucket, createClientIpResolver } from '../ratelimit/client-ip.js';
import { parseRate } from '../ratelimit/rate.js';
import { createMemoryStore } from '../ratelimit/store.js';
import { createAuthorizeEndpoint } from './authorize.js';
import type { OAuthClient } from './client.js';
import type { AuthorizationServerContext } from './context.js';
import { OAuthError } from './errors.js';
import { registerClient } from './register.js';
import { oauthErrorResponse, oauthJson } from './responses.js';
import { introspectionEndpoint, revocationEndpoint } from './revoke.js';
import { openSigningKeys, type SigningKeys } from './signing-keys.js';
import { createSqlOAuthStore, type OAuthStore } from './store.js';
import { tokenEndpoint } from './token.js';
import type { Upstream } from './upstream.js';

/** Where client metadata documents come from (see `client-metadata-document.ts`). */
export interface ClientMetadataDocuments {
  /** Whether a client id names a document (an https URL with a path). */
  isDocumentId(clientId: string): boolean;
  /** Fetches and checks the document. @throws OAuthError `invalid_client`. */
  resolve(clientId: string): Promise<OAuthClient>;
}

/** Options of {@link createAuthorizationServer}: the context's settings, and where clients come from. */
export interface AuthorizationServerOptions
  extends Pick<
    AuthorizationServerContext,
    | 'issuer'
    | 'resource'
    | 'db'
    | 'logger'
    | 'knownScopes'
    | 'scopePolicy'
    | 'accessTokenTtlSeconds'
    | 'refreshTokenTtlSeconds'
    | 'codeTtlSeconds'
    | 'baseHeaders'
  > {
  /** Clients known from configuration. */
  readonly preRegistered: readonly OAuthClient[];
  readonly registration: { readonly enabled: boolean; readonly rate: string };
  /** Failed sign-ins allowed per user name and per client address, as rates (`10/15min`). */
  readonly signIn?: { readonly failuresPerUser: string; readonly failuresPerAddress: string } | undefined;
  /** Client ID Metadata Documents: clients whose id is an https URL, when enabled. */
  readonly clientMetadataDocuments?: ClientMetadataDocuments | undefined;
  /** Sign users in at this OpenID provider instead of with local passwords. */
  readonly upstream?: Upstream | undefined;
  /** Addresses of trusted proxies, for the per-address limits (as `server.proxy`). */
  readonly trustedProxies: readonly string[];
  readonly now?: () => number;
}

/** A running embedded authorization server. */
export interface AuthorizationServer {
  /** Routes: metadata, /oauth/authorize, token, register, revoke, introspect, jwks. */
  readonly app: Hono<{ Bindings: { remoteAddress?: string } }>;
  readonly issuer: string;
  readonly keys: SigningKeys;
  readonly store: OAuthStore;
  /** Set by the verifier so that a revocation also ends cached verifications. */
  onRevoke: (grantId: string) => void;
  /** Set by `createRampart` to the audit trail's append; settles when the record is stored. */
  audit: (entry: AuditEntry) => Promise<void>;
  /** Whether a grant is revoked (the resource checks every token of this issuer). */
  isGrantRevoked(grantId: string): Promise<boolean>;
  /** Stops the periodic purge. */
  close(): void;
}

/**
 * The embedded OAuth 2.1 authorization server (RFC 8414 metadata, PKCE S256 only, RFC 8707
 * resources, RFC 9207 `iss`, RFC 7591 registration, client metadata documents, RFC 7009/7662).
 * It issues RFC 9068 access tokens for exactly one resource: this server's MCP endpoint.
 */
export async function createAuthorizationServer(
  options: AuthorizationServerOptions,
): Promise<AuthorizationServer> {
  const now = options.now ?? Date.now;
  const store = createSqlOAuthStore(options.db, now);
  const keys = await openSigningKeys(options.db, now);
  const preRegistered = new Map(options.preRegistered.map((c) => [c.clientId, c]));
  const documents = options.clientMetadataDocuments;

  // Old codes and refresh tokens are purged now and then; nothing depends on when.
  const purge = setInterval(() => void store.purgeExpired().catch(() => {}), 3_600_000);
  purge.unref();
  const server: AuthorizationServer = {
    app: new Hono(),
    issuer: options.issuer,
    keys,
    store,
    onRevoke: () => {},
    audit: async () => {},
    async isGrantRevoked(grantId) {
      const grant = await store.getGrant(grantId);
      return !grant || grant.revokedAt !== null;
    },
    close: () => clearInterval(purge),
  };

  const registrationRate = parseRate(options.registration.rate);
  // Account names and client addresses in stores of their own: a flood of one kind (made-up user
  // names, fresh addresses) cannot crowd out the other's buckets. Addresses count per IPv6 /64.
  const userBuckets = createMemoryStore({ maxKeys: 200_000 });
  const addressBuckets = createMemoryStore({ maxKeys: 100_000 });
  const clientIp = createClientIpResolver(options.trustedProxies);
  const perUser = parseRate(options.signIn?.failuresPerUser ?? '10/15min');
  const perAddress = parseRate(options.signIn?.failuresPerAddress ?? '30/15min');
  if (!perUser || !perAddress) throw new TypeError('oauth.signIn: a rate such as 10/15min');
  const userKey = (user: string) => `signin-user:${user.toLowerCase().slice(0, 128)}`;
  const signInThrottle = {
    begin(user: string, address: string): number | { succeeded(): void } {
      const account = userKey(user);
      const client = `signin-ip:${addressBucket(address)}`;
      const a = userBuckets.take(account, perUser, now());
      if (!a.allowed) return Math.ceil(a.retryAfterMs / 1000);
      const b = addressBuckets.take(client, perAddress, now());
      if (!b.allowed) {
        userBuckets.refund(account, perUser, a);
        return Math.ceil(b.retryAfterMs / 1000);
      }
      return {
        succeeded() {
          userBuckets.refund(account, perUser, a);
          addressBuckets.refund(client, perAddress, b);
        },
      };
    },
  };

  const ctx: AuthorizationServerContext = {
    signInThrottle,
    issuer: options.issuer,
    resource: options.resource,
    https: options.issuer.startsWith('https:'),
    db: options.db,
    store,
    keys,
    logger: options.logger,
    knownScopes: options.knownScopes,
    scopePolicy: options.scopePolicy,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    refreshTokenTtlSeconds: options.refreshTokenTtlSeconds,
    codeTtlSeconds: options.codeTtlSeconds,
    baseHeaders: options.baseHeaders,
    upstream: options.upstream,
    now,
    onRevoke: (grantId) => server.onRevoke(grantId),
    audit: (entry) => server.audit(entry),
    async findClient(clientId) {
      if (clientId.length > 2048) return undefined;
      const configured = preRegistered.get(clientId);
      if (configured) return configured;
      if (documents?.isDocumentId(clientId)) return documents.resolve(clientId);
      return clientId.startsWith('rc_') ? store.getClient(clientId) : undefined;
    },
  };

  // Every consent page stores a pending request: pages per address are bounded like registrations.
  const pageRate = parseRate('120/min') as NonNullable<ReturnType<typeof parseRate>>;
  const limited = (kind: string, address: string | undefined, forwardedFor: string | null) => {
    const rate = kind === 'register' ? registrationRate : pageRate;
    if (!rate) return false;
    return !addressBuckets.take(`${kind}:${addressBucket(clientIp(address, forwardedFor))}`, rate, now())
      .allowed;
  };

  const metadata = {
    issuer: options.issuer,
    authorization_endpoint: `${options.issuer}/oauth/authorize`,
    token_endpoint: `${options.issuer}/oauth/token`,
    jwks_uri: `${options.issuer}/oauth/jwks`,
    ...(options.registration.enabled ? { registration_endpoint: `${options.issuer}/oauth/register` } : {}),
    revocation_endpoint: `${options.issuer}/oauth/revoke`,
    introspection_endpoint: `${options.issuer}/oauth/introspect`,
    scopes_supported: [...options.knownScopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: documents !== undefined,
  };
  const metadataText = JSON.stringify(metadata);

  const app = server.app;
  const guarded =
    (handler: (request: Request) => Promise<Response>) =>
    async (c: { req: { raw: Request } }): Promise<Response> => {
      try {
        return await handler(c.req.raw);
      } catch (error) {
        if (!(error instanceof OAuthError) || error.status >= 500) {
          const requestId = crypto.randomUUID();
          options.logger.error({ reqId: requestId, err: error }, 'oauth endpoint failed');
          return oauthErrorResponse(error, options.baseHeaders, requestId);
        }
        return oauthErrorResponse(error, options.baseHeaders);
      }
    };
  app.get(
    '/.well-known/oauth-authorization-server',
    () =>
      new Response(metadataText, {
        headers: {
          ...options.baseHeaders,
          'content-type': 'application/json',
          'cache-control': 'public, max-age=3600',
          'access-control-allow-origin': '*',
        },
      }),
  );
  app.get(
    '/oauth/jwks',
    async () =>
      new Response(JSON.stringify(await keys.jwks()), {
        headers: {
          ...options.baseHeaders,
          'content-type': 'application/jwk-set+json',
          'cache-control': 'public, max-age=300',
          'access-control-allow-origin': '*',
        },
      }),
  );
  const authorize = createAuthorizeEndpoint(ctx);
  app.get('/oauth/authorize', (c) =>
    limited('authorize', c.env?.remoteAddress, c.req.header('x-forwarded-for') ?? null)
      ? new Response('Too many sign-in pages from this address; try again in a minute.', {
          status: 429,
          headers: {
            ...options.baseHeaders,
            'content-type': 'text/plain; charset=utf-8',
            'retry-after': '60',
          },
        })
      : authorize.get(c.req.raw),
  );
  app.post('/oauth/authorize', (c) =>
    authorize.post(c.req.raw, clientIp(c.env?.remoteAddress, c.req.header('x-forwarded-for') ?? null)),
  );
  if (options.upstream) app.get('/oauth/upstream/callback', (c) => authorize.upstreamCallback(c.req.raw));
  app.post(
    '/oauth/token',
    guarded((request) => tokenEndpoint(ctx, request)),
  );
  app.post(
    '/oauth/revoke',
    guarded((request) => revocationEndpoint(ctx, request)),
  );
  app.post(
    '/oauth/introspect',
    guarded((request) => introspectionEndpoint(ctx, request)),
  );
  if (options.registration.enabled) {
    app.post('/oauth/register', (c) => {
      if (limited('register', c.env?.remoteAddress, c.req.header('x-forwarded-for') ?? null)) {
        return oauthJson(
          { error: 'slow_down', error_description: 'too many registrations from this address' },
          429,
          options.baseHeaders,
          { 'retry-after': '60' },
        );
      }
      return guarded((request) => registerClient(ctx, request))(c);
    });
  }
  return server;
}
