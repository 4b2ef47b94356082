import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AdminRouteGuard } from './admin-route-guard.js';
import { RampartError } from './errors.js';
import { toResponse } from './exchange.js';
import { errorResponse } from './respond.js';

/** What the routes besides the MCP endpoint need. */
export interface RoutesOptions {
  /** The RFC 9728 document, served at `/.well-known/oauth-protected-resource[/mcp path]`. */
  readonly resourceMetadata: object;
  readonly mcpPath: string;
  /** The embedded authorization server's routes, when it is on. */
  readonly authorizationServer?: Hono<{ Bindings: { remoteAddress?: string } }> | undefined;
  readonly baseHeaders: Readonly<Record<string, string>>;
  readonly isDraining: () => boolean;
  readonly logger: Logger;
  /** `/metrics` for a credential with `scope`; left out when metrics are off. */
  readonly metrics?:
    | {
        readonly registry: Registry;
        readonly path: string;
        readonly scope: string;
        /** Authenticates and authorizes within the failed-attempt budget, reporting refusals. */
        readonly guard: AdminRouteGuard;
        readonly resourceMetadataUrl: string;
      }
    | undefined;
}

/**
 * Every route but the MCP endpoint (which `createRampart` matches before the router): protected
 * resource metadata, health and readiness, and `/metrics`. Anything else is a 404.
 */
export function createRoutes(options: RoutesOptions): Hono<{ Bindings: { remoteAddress?: string } }> {
  const { baseHeaders, logger } = options;
  const metadata = JSON.stringify(options.resourceMetadata);
  const app = new Hono<{ Bindings: { remoteAddress?: string } }>();
  const wellKnown = '/.well-known/oauth-protected-resource';
  for (const route of new Set([`${wellKnown}${options.mcpPath}`, wellKnown])) {
    app.get(
      route,
      () =>
        // Public metadata, readable by browser clients of any origin (no credentials involved).
        new Response(metadata, {
          headers: {
            ...baseHeaders,
            'content-type': 'application/json',
            'cache-control': 'public, max-age=3600',
            'access-control-allow-origin': '*',
          },
        }),
    );
  }
  if (options.authorizationServer) app.route('/', options.authorizationServer);
  app.get('/healthz', () => json({ status: 'ok' }, 200, baseHeaders));
  app.get('/readyz', () =>
    options.isDraining()
      ? json({ status: 'draining' }, 503, baseHeaders)
      : json({ status: 'ready' }, 200, baseHeaders),
  );
  const metrics = options.metrics;
  if (metrics) {
    // Operational detail (tool names, refusal counts): for an admin credential only.
    app.get(metrics.path, async (c) => {
      const requestId = crypto.randomUUID();
      try {
        await metrics.guard(c.req.raw.headers, c.env?.remoteAddress, metrics.scope, {
          method: `GET ${metrics.path}`,
          requestId,
        });
        return new Response(await metrics.registry.metrics(), {
          headers: { ...baseHeaders, 'content-type': metrics.registry.contentType },
        });
      } catch (error) {
        if (!(error instanceof RampartError) || error.status >= 500) {
          logger.error({ reqId: requestId, err: error }, 'metrics failed');
        }
        return toResponse(
          errorResponse(error, {
            requestId,
            resourceMetadataUrl: metrics.resourceMetadataUrl,
            challengeScopes: [metrics.scope],
            headers: baseHeaders,
          }),
        );
      }
    });
  }
  app.notFound(() => json({ error: 'not_found' }, 404, baseHeaders));
  app.onError((err) => {
    // Nothing of the failure for the client; the request id finds its line in the server log.
    const requestId = crypto.randomUUID();
    logger.error({ reqId: requestId, err }, 'unhandled error');
    return json({ error: 'server_error', request_id: requestId }, 500, baseHeaders);
  });
  return app;
}

function json(body: unknown, status: number, headers: Readonly<Record<string, string>>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': 'application/json' },
  });
}
