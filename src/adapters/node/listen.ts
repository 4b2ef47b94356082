import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Rampart } from '../../core/create-rampart.js';
import { ConfigError } from '../../core/errors.js';
import { checkOrigin, createOriginPolicy, isLoopbackHost, type OriginPolicy } from '../../core/origin.js';
import { defaultSecretSources, resolveSecret } from '../../secrets/index.js';
import { fromIncomingMessage, headerReader, writeReply } from './inbound.js';

/** Options of {@link listen}; by default everything comes from the Rampart's configuration. */
export interface ListenOptions {
  port?: number;
  host?: string;
  /** Install SIGTERM/SIGINT handlers that shut down gracefully. Default false (the CLI sets it). */
  handleSignals?: boolean;
}

/** A listening server. */
export interface RunningServer {
  readonly server: Server;
  /** `http://127.0.0.1:8787`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** The separate metrics listener's URL, when `metrics.listen` is set. */
  readonly metricsUrl: string | undefined;
  /** Stops accepting, lets in-flight requests finish (up to `server.shutdownTimeoutMs`), then closes. */
  close(): Promise<void>;
}

/**
 * Serves a Rampart on Node's HTTP or HTTPS server.
 *
 * Refuses to listen on a non-loopback address without TLS unless `server.proxy.enabled` says a
 * TLS-terminating proxy is in front. With TLS, certificate and key are re-read when either file
 * changes, so renewals need no restart.
 *
 * @throws ConfigError for plain HTTP off loopback, or unreadable TLS files.
 */
export async function listen(rampart: Rampart, options: ListenOptions = {}): Promise<RunningServer> {
  const { server: cfg } = rampart.config;
  const host = options.host ?? cfg.host;
  const port = options.port ?? cfg.port;
  if (!cfg.tls.enabled && !cfg.proxy.enabled && !isLoopbackHost(host)) {
    throw new ConfigError(
      'server.tls',
      `refusing to serve plain HTTP on ${host}: enable server.tls, or set server.proxy.enabled when a TLS-terminating proxy is in front`,
    );
  }

  let inFlight = 0;
  let idle: (() => void) | undefined;
  const handler = getRequestListener(
    (request, env) => rampart.fetch(request, { remoteAddress: env.incoming.socket.remoteAddress }),
    {
      errorHandler: (err) => {
        rampart.logger.error({ err }, 'node adapter error');
        return new Response(null, { status: 500 });
      },
    },
  );
  const { endpoint } = rampart;
  const scheme = cfg.tls.enabled ? 'https' : 'http';
  const serveMcp = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      writeReply(res, await endpoint.handle(fromIncomingMessage(req, res, scheme)));
    } catch (err) {
      // The endpoint answers its own errors; this is a fault in writing the answer.
      rampart.logger.error({ err }, 'node adapter error');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  };
  // One function for every response, not a closure per request.
  const onResponseClose = () => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.on('close', onResponseClose);
    // The MCP endpoint is fed straight from node:http; every other route goes through Hono.
    void (isPath(req.url, endpoint.path) ? serveMcp(req, res) : handler(req, res));
  };

  let server: Server;
  let stopWatching = () => {};
  if (cfg.tls.enabled) {
    const certFile = cfg.tls.certFile as string;
    const keyFile = cfg.tls.keyFile as string;
    // Resolved once at start-up; a rotated passphrase needs a restart, a rotated key file does not.
    const passphrase = cfg.tls.keyPassphrase
      ? (
          await resolveSecret(cfg.tls.keyPassphrase, defaultSecretSources(), 'server.tls.keyPassphrase')
        ).reveal()
      : undefined;
    const readTls = () => {
      try {
        return { cert: readFileSync(certFile), key: readFileSync(keyFile), passphrase };
      } catch (cause) {
        throw new ConfigError('server.tls', 'cannot read certFile or keyFile', { cause });
      }
    };
    let https: ReturnType<typeof createHttpsServer>;
    try {
      https = createHttpsServer({ ...readTls(), minVersion: 'TLSv1.2' }, listener);
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      // A wrong passphrase or a key that does not match the certificate.
      throw new ConfigError('server.tls', 'cannot load the certificate and key (wrong keyPassphrase?)', {
        cause,
      });
    }
    const reload = () => {
      try {
        https.setSecureContext({ ...readTls(), minVersion: 'TLSv1.2' });
        rampart.logger.info('TLS certificate reloaded');
      } catch (err) {
        rampart.logger.error({ err }, 'TLS reload failed; keeping the previous certificate');
      }
    };
    // Polling survives atomic replacement (rename), which fs.watch does not report reliably.
    watchFile(certFile, { interval: 2000 }, reload);
    watchFile(keyFile, { interval: 2000 }, reload);
    stopWatching = () => {
      unwatchFile(certFile, reload);
      unwatchFile(keyFile, reload);
    };
    server = https as unknown as Server;
  } else {
    server = createHttpServer(listener);
  }
  server.requestTimeout = cfg.requestTimeoutMs;
  server.headersTimeout = Math.min(cfg.requestTimeoutMs, 20_000);
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let metricsServer: Server | undefined;
  try {
    metricsServer = await listenForMetrics(rampart);
  } catch (error) {
    server.close();
    stopWatching();
    throw error;
  }
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `${cfg.tls.enabled ? 'https' : 'http'}://${urlHost}:${bound}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      rampart.drain();
      stopWatching();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => {
            idle = resolve;
          }),
          new Promise<void>((resolve) => setTimeout(resolve, cfg.shutdownTimeoutMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      if (metricsServer) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      await rampart.close();
      await new Promise<void>((resolve) => rampart.logger.flush(() => resolve()));
    })();
    return closing;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      rampart.logger.info({ signal, inFlight }, 'shutting down');
      close().then(
        () => process.exit(0),
        (err) => {
          rampart.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return {
    server,
    url,
    port: bound,
    metricsUrl: metricsServer
      ? `http://${hostForUrl(rampart.config.metrics.listen?.host ?? '127.0.0.1')}:${(metricsServer.address() as AddressInfo).port}${rampart.config.metrics.path}`
      : undefined,
    close,
  };
}

/**
 * The separate metrics listener of `metrics.listen`: no authentication, so loopback only (a
 * scraper on the same host, or a sidecar). Refuses any other address.
 */
async function listenForMetrics(rampart: Rampart): Promise<Server | undefined> {
  const settings = rampart.config.metrics;
  const registry = rampart.metrics;
  if (!settings.enabled || !settings.listen || !registry) return undefined;
  const { host, port } = settings.listen;
  if (!isLoopbackHost(host)) {
    throw new ConfigError(
      'metrics.listen.host',
      `must be a loopback address (got ${host}): it has no authentication`,
    );
  }
  // The endpoint's own Host and Origin rule, for the loopback names at the bound port: a web page
  // whose name was rebound to 127.0.0.1 (DNS rebinding) would otherwise read this unauthenticated
  // listener from the user's browser. Set once the port is known.
  let policy: OriginPolicy | undefined;
  const server = createHttpServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== settings.path) {
      res.writeHead(404).end();
      return;
    }
    try {
      checkOrigin(headerReader(req), { url: `http://${req.headers.host ?? ''}/` }, policy as OriginPolicy);
    } catch {
      res.writeHead(403).end();
      return;
    }
    registry.metrics().then(
      (text) =>
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  policy = createOriginPolicy({
    publicUrl: new URL(`http://${hostForUrl(host)}:${bound}`),
    bindHost: host,
    port: bound,
    allowedOrigins: [],
    allowedHosts: [],
  });
  return server;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Whether a request target (`/mcp?x`, or absolute-form `http://h/mcp`) names `path`. */
function isPath(target: string | undefined, path: string): boolean {
  if (target === undefined) return false;
  if (target.startsWith(path)) {
    const next = target.charCodeAt(path.length);
    return Number.isNaN(next) || next === 63 /* ? */ || next === 35 /* # */;
  }
  // Absolute-form targets are rare (proxies); let the full router decide.
  return false;
}
