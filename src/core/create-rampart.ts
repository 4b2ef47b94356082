import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { openAuditSink } from '../audit/open.js';
import type { AuditSink } from '../audit/sink.js';
import { createAuthenticator } from '../auth/authenticate.js';
import type { JwtVerifier } from '../auth/jwt/verifier.js';
import type { Principal } from '../auth/principal.js';
import { buildResourceMetadata, resourceMetadataUrl } from '../auth/resource-metadata.js';
import type { TokenVerifier } from '../auth/verifier.js';
import { createScopeHierarchy } from '../authz/scopes.js';
import { type RampartConfigInput, type ResolvedConfig, resolveConfig } from '../config/index.js';
import { detectionFromConfig } from '../detect/from-config.js';
import type { MountOptions } from '../mount/options.js';
import { routeWithMount } from '../mount/route.js';
import { createSdkMount } from '../mount/sdk-mount.js';
import { authorizationServerFromConfig } from '../oauth/from-config.js';
import { createDispatcher } from '../protocol/dispatch.js';
import { createSessionStore } from '../protocol/sessions.js';
import { createAuthGate } from '../ratelimit/auth-gate.js';
import { createClientIpResolver } from '../ratelimit/client-ip.js';
import { rateLimiterFromConfig } from '../ratelimit/from-config.js';
import { sanitizerFromConfig } from '../sanitize/from-config.js';
import type { Tool } from '../tools/define-tool.js';
import { createAccessLog } from './access-log.js';
import { createAdminRouteGuard } from './admin-route-guard.js';
import { ConfigError } from './errors.js';
import { fromFetchRequest, type InboundRequest, type Reply, toResponse } from './exchange.js';
import { createLogWriter } from './log-writer.js';
import { createMcpEndpoint } from './mcp-endpoint.js';
import { createOriginPolicy } from './origin.js';
import { createRoutes } from './routes.js';
import { withSafeErrorLogging } from './safe-error-log.js';
import { securityHeaders } from './security-headers.js';
import { createVerifiers } from './verifiers.js';

/** Options of {@link createRampart}. */
export interface RampartOptions {
  /** Configuration: the same shape as `rampart.yaml`; validated here. */
  config?: RampartConfigInput;
  /** Rampart's own tools, served on the lean path. */
  tools?: readonly Tool[];
  /**
   * An official MCP SDK server to serve behind the same boundary (its tools, resources, prompts),
   * authorized by the rules given here. See {@link MountOptions}.
   */
  mount?: MountOptions;
  /**
   * Replaces the verifiers built from config (API keys in the data directory, JWT issuers).
   * Use it to bring your own {@link TokenVerifier}.
   */
  verifiers?: readonly TokenVerifier[];
  /**
   * Replaces the audit sink built from `audit` in the configuration (`false`: no audit trail).
   * Rampart closes it on `close()`.
   */
  audit?: AuditSink | false;
  /** A pino logger; by default one is made from `logging.level`. */
  logger?: Logger;
}

/** A running Rampart boundary: a web-standard `fetch` handler and what it was built from. */
export interface Rampart {
  /** Handles one request (Node, Bun, Deno, Workers, Lambda adapters all call this). */
  fetch(request: Request, info?: { remoteAddress?: string }): Promise<Response>;
  /**
   * The MCP endpoint without web `Request`/`Response` objects, for runtime adapters that can feed
   * it directly (the Node adapter does: it saves about a third of the endpoint's cost). `fetch`
   * routes to the same handler.
   */
  readonly endpoint: {
    /** The endpoint's path, `server.path`. */
    readonly path: string;
    handle(request: InboundRequest): Promise<Reply>;
  };
  readonly config: ResolvedConfig;
  /** The canonical resource URI (RFC 8707) tokens must be issued for. */
  readonly resourceUrl: string;
  readonly resourceMetadataUrl: string;
  readonly logger: Logger;
  /** The audit trail, when on. */
  readonly audit: AuditSink | undefined;
  /** The Prometheus registry behind `/metrics`, when metrics are on. */
  readonly metrics: Registry | undefined;
  /** Marks the server as draining: `/readyz` answers 503 so load balancers stop sending. */
  drain(): void;
  /** Releases verifiers and stores. */
  close(): Promise<void>;
}

/**
 * Builds the boundary around a set of tools.
 *
 * @throws ConfigError for invalid configuration or tool sets (duplicate names, scopes the
 *   configuration does not know).
 * @example
 * const rampart = await createRampart({ tools: [echo], config: { server: { port: 8787 } } });
 * const response = await rampart.fetch(new Request('http://127.0.0.1:8787/healthz'));
 */
export async function createRampart(options: RampartOptions): Promise<Rampart> {
  const config = resolveConfig(options.config);
  // Asynchronous, batched writes: a synchronous write per access-log line costs ~6 µs a request;
  // what is pending is flushed on shutdown (`listen().close()`) and at process exit.
  const destination = options.logger ? undefined : createLogWriter();
  const logger = withSafeErrorLogging(
    options.logger ??
      pino(
        { level: config.logging.level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime },
        destination,
      ),
  );
  const { server, protocol, authorization } = config;

  const publicUrl = new URL(
    server.publicUrl ?? defaultPublicUrl(server.host, server.port, server.tls.enabled),
  );
  if (!server.publicUrl && (server.host === '0.0.0.0' || server.host === '::')) {
    throw new ConfigError(
      'server.publicUrl',
      'is required when listening on all interfaces (tokens are bound to it)',
    );
  }
  const resource = new URL(server.path, publicUrl);
  const resourceUrl = resource.href;
  const metadataUrl = resourceMetadataUrl(resource);

  const tools = new Map<string, Tool>();
  const knownScopes = new Set(authorization.scopes);
  if (!options.tools?.length && !options.mount) {
    throw new ConfigError('tools', 'nothing to serve: give tools, a mount, or both');
  }
  for (const tool of options.tools ?? []) {
    if (tools.has(tool.name)) throw new ConfigError('tools', `duplicate tool name "${tool.name}"`);
    if (!knownScopes.has(tool.scope)) {
      throw new ConfigError(
        'tools',
        `tool "${tool.name}" needs scope "${tool.scope}", which authorization.scopes lacks`,
      );
    }
    tools.set(tool.name, tool);
  }

  // Settings that can still be refused come before the verifiers, so a refusal leaves nothing open.
  const clientIp = createClientIpResolver(server.proxy.enabled ? server.proxy.trustedAddresses : []);
  const sanitize = sanitizerFromConfig(config, logger);
  // A Redis store connects on its first command, so a later refusal leaves no socket open.
  const rateLimit = await rateLimiterFromConfig(config, tools, options.mount);
  const rateLimiter = rateLimit?.limiter;
  const limitTool = rateLimiter ? (p: Principal, tool: string) => rateLimiter.takeTool(p, tool) : undefined;
  // Before the verifiers: a bad mount rule fails start-up with nothing to release.
  const mounted = options.mount
    ? await createSdkMount(options.mount, {
        knownScopes,
        readScope: knownScopes.has('mcp:read') ? 'mcp:read' : (authorization.scopes[0] ?? 'mcp:read'),
        resourceUrl,
        resourceMetadataUrl: metadataUrl,
        logger,
      })
    : undefined;
  const https = publicUrl.protocol === 'https:';
  const baseHeaders = securityHeaders(https ? server.tls.hstsMaxAgeSeconds : undefined);
  const oauth =
    options.verifiers === undefined
      ? await authorizationServerFromConfig(config, { publicUrl, resourceUrl, logger, baseHeaders })
      : undefined;
  let verifiers: readonly TokenVerifier[];
  try {
    verifiers = options.verifiers ?? (await createVerifiers(config, resourceUrl, logger, oauth?.issuer));
  } catch (error) {
    await oauth?.close();
    throw error;
  }
  if (oauth) {
    // A revocation ends cached verifications at once; the next use of each token is checked again.
    const jwt = verifiers.find((v): v is JwtVerifier => 'clearCache' in v);
    oauth.server.onRevoke = () => jwt?.clearCache();
  }
  if (verifiers.length === 0) {
    throw new ConfigError(
      'auth',
      'no way to authenticate: enable auth.apiKeys or configure auth.jwt.issuers',
    );
  }
  let audit: AuditSink | undefined;
  try {
    audit =
      options.audit === false
        ? undefined
        : (options.audit ??
          (await openAuditSink(config, (err) => logger.error({ err }, 'audit write failed'))));
  } catch (error) {
    await Promise.all([...verifiers.map((v) => v.close?.()), oauth?.close()]);
    throw error;
  }
  if (oauth && audit) {
    const sink = audit;
    oauth.server.audit = async (entry) => {
      await sink.append(entry);
    };
  }
  const hierarchy = createScopeHierarchy(authorization.hierarchy);
  const originPolicy = createOriginPolicy({
    publicUrl,
    bindHost: server.host,
    port: server.port,
    allowedOrigins: server.allowedOrigins,
    allowedHosts: server.allowedHosts,
  });
  const legacyEnabled = protocol.legacy.enabled;
  const sessions =
    legacyEnabled && protocol.legacy.sessions.enabled
      ? createSessionStore({
          ttlSeconds: protocol.legacy.sessions.ttlSeconds,
          maxSessions: protocol.legacy.sessions.maxSessions,
        })
      : undefined;

  const ownDispatch = createDispatcher({
    tools,
    hierarchy,
    serverInfo: { name: protocol.serverName, version: protocol.serverVersion },
    instructions: protocol.instructions,
    listTtlMs: protocol.listTtlMs,
    legacyEnabled,
    limitTool,
    sanitize,
    onToolFailure: (err, tool, reqId) => logger.error({ reqId, tool, err }, 'tool failed'),
  });
  const dispatch = mounted
    ? routeWithMount(ownDispatch, mounted, {
        ownTools: new Set(tools.keys()),
        hierarchy,
        limitTool,
        sanitize,
      })
    : ownDispatch;

  const { metrics, observe } = detectionFromConfig(config, { logger, audit });
  const authenticate = createAuthenticator(verifiers);

  // One failed-authentication budget for every route that checks credentials.
  const authGate = rateLimiter ? createAuthGate(rateLimiter) : undefined;
  const mcp = createMcpEndpoint({
    originPolicy,
    authenticate,
    dispatch,
    sessions,
    legacyEnabled,
    maxBodyBytes: server.maxBodyBytes,
    jsonLimits: { maxDepth: server.maxJsonDepth, maxElements: server.maxJsonElements },
    resourceMetadataUrl: metadataUrl,
    challengeScopes: [authorization.scopes[0] ?? 'mcp:read'],
    baseHeaders,
    logger,
    accessLog: config.logging.requests ? createAccessLog(logger, destination) : undefined,
    clientIp,
    rateLimiter,
    authGate,
    audit,
    observe,
  });

  let draining = false;
  const app = createRoutes({
    resourceMetadata: buildResourceMetadata({
      resource: resourceUrl,
      authorizationServers: [
        ...(oauth ? [oauth.server.issuer] : []),
        ...config.auth.jwt.issuers.map((i) => i.issuer),
      ],
      scopesSupported: authorization.scopes,
      resourceName: protocol.serverName,
    }),
    mcpPath: server.path,
    baseHeaders,
    authorizationServer: oauth?.server.app,
    isDraining: () => draining,
    logger,
    metrics: metrics && {
      registry: metrics.registry,
      path: config.metrics.path,
      scope: knownScopes.has('mcp:admin') ? 'mcp:admin' : (authorization.scopes.at(-1) as string),
      guard: createAdminRouteGuard({
        authenticate,
        hierarchy,
        clientIp,
        authGate,
        audit,
        observe,
        onAuditError: (err) => logger.error({ err }, 'audit record not stored'),
      }),
      resourceMetadataUrl: metadataUrl,
    },
  });

  return {
    // The MCP endpoint is the hot path: matched here, it skips the router's context and middleware.
    fetch: async (request, info) =>
      pathOf(request.url) === server.path
        ? toResponse(await mcp(fromFetchRequest(request, info?.remoteAddress)))
        : app.fetch(request, { remoteAddress: info?.remoteAddress }),
    endpoint: { path: server.path, handle: mcp },
    config,
    resourceUrl,
    resourceMetadataUrl: metadataUrl,
    logger,
    audit,
    metrics: metrics?.registry,
    drain() {
      draining = true;
    },
    async close() {
      await Promise.all([
        ...verifiers.map((v) => v.close?.()),
        mounted?.close(),
        audit?.close(),
        rateLimit?.store.close?.(),
        oauth?.close(),
      ]);
      if (destination) {
        await new Promise<void>((resolve) => destination.flush(() => resolve()));
        destination.close();
      }
    },
  };
}

/** The path of an absolute URL string, without parsing it into a URL object. */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const query = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  const end = query < 0 ? (hash < 0 ? url.length : hash) : query;
  return url.slice(start, end);
}

function defaultPublicUrl(host: string, port: number, tls: boolean): string {
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${name}:${port}`;
}
