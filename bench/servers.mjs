// Child process of bench/run.mjs: serves one contender on 127.0.0.1 and reports readiness over IPC.
// Started as `taskset -c 0 node bench/servers.mjs` with BENCH_PARAMS (JSON) in the environment:
// { kind, port, resourceUrl, issuer, jwksFile, dataDir, logRequests }.
// Not part of the package; imports Rampart from dist/ (run `npm run build` first).

import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';

const params = JSON.parse(process.env.BENCH_PARAMS ?? '{}');
const HOST = '127.0.0.1';

// Exit with the parent, and exit normally on SIGTERM so that --cpu-prof can write its profile.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('message', onControl);

const servers = {
  bare: serveBare,
  rampart: serveRampart,
  'sdk-v1': serveSdkV1,
  'sdk-v2': serveSdkV2,
};

// GC pause time by kind, for the bench's GC column: a young-generation collection that takes
// milliseconds means request objects survive it (promotion), which the CPU time alone hides.
const gc = { scavengeMs: 0, scavenges: 0, majorMs: 0, majors: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind === perf.NODE_PERFORMANCE_GC_MINOR) {
      gc.scavenges++;
      gc.scavengeMs += entry.duration;
    } else {
      gc.majors++;
      gc.majorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

const serve = servers[params.kind];
if (!serve) {
  console.error(`unknown server kind: ${params.kind}`);
  process.exit(2);
}
try {
  await serve();
  process.send?.({ ready: true, pid: process.pid });
} catch (err) {
  console.error(err);
  process.exit(1);
}

/** Memory usage and CPU profiling on request of the parent (profiling after warm-up, so that start-up stays out of the profile). */
let session;
function onControl(message) {
  const post = (method, args) =>
    new Promise((resolve, reject) =>
      session.post(method, args, (err, result) => (err ? reject(err) : resolve(result))),
    );
  if (message?.cmd === 'gc') {
    process.send?.({ gc: { ...gc } });
  } else if (message?.cmd === 'mem') {
    const before = process.memoryUsage();
    // With --expose-gc (the flatness check), also report what survives two full collections.
    if (message.gc && typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    process.send?.({ mem: { before, after: process.memoryUsage() } });
  } else if (message?.cmd === 'profile-start') {
    session = new Session();
    session.connect();
    post('Profiler.enable')
      .then(() => post('Profiler.setSamplingInterval', { interval: message.intervalUs ?? 250 }))
      .then(() => post('Profiler.start'))
      .then(() => process.send?.({ profiling: true }))
      .catch((err) => process.send?.({ error: String(err) }));
  } else if (message?.cmd === 'profile-stop') {
    post('Profiler.stop')
      .then(({ profile }) => {
        writeFileSync(message.file, JSON.stringify(profile));
        session.disconnect();
        process.send?.({ profiled: message.file });
      })
      .catch((err) => process.send?.({ error: String(err) }));
  }
}

/** A node:http server that parses the JSON-RPC body and answers the echo result: the floor. */
async function serveBare() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let message;
      try {
        message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"parse"}');
        return;
      }
      const text = message?.params?.arguments?.text;
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: message.id,
        result: { content: [{ type: 'text', text }] },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await listenOn(server);
}

/** Rampart's full pipeline: Origin/Host, JWT auth, modern-era protocol checks, authz, zod validation. */
async function serveRampart() {
  const [{ createRampart, listen }, { echo }] = await Promise.all([
    import('../dist/index.js'),
    import('./echo-tool.mjs'),
  ]);
  const jwt = {
    issuers: [
      { issuer: params.issuer, jwksFile: params.jwksFile, algorithms: ['ES256'], requiredTyp: 'at+jwt' },
    ],
  };
  if (params.jwtCache === false) jwt.cacheMaxEntries = 0;
  const layers = params.layers ?? { rateLimit: false, audit: false, sanitize: false };
  const rampart = await createRampart({
    tools: [echo],
    config: {
      server: { host: HOST, port: params.port },
      auth: { apiKeys: { enabled: false }, jwt },
      storage: { dataDir: params.dataDir },
      logging: { requests: params.logRequests !== false },
      // On but never refusing (a bench token would run out of any real budget): the GCRA work is done.
      rateLimit: layers.rateLimit
        ? { perPrincipal: '100000000/s', perTool: '100000000/s' }
        : { enabled: false },
      audit: layers.audit
        ? { mode: layers.audit, file: `${params.dataDir}/audit-${params.port}.log` }
        : { enabled: false },
      sanitize: { enabled: layers.sanitize !== false },
      detection: { enabled: (layers.metrics ?? layers.rateLimit) !== false },
      metrics: { enabled: (layers.metrics ?? layers.rateLimit) !== false },
    },
  });
  await listen(rampart, { port: params.port, host: HOST });
}

/** A jose-based token check shared by both SDK contenders (the SDKs leave verification to the app). */
async function makeJoseVerifier(invalidToken) {
  const { createLocalJWKSet, jwtVerify } = await import('jose');
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(params.jwksFile, 'utf8')));
  return {
    async verifyAccessToken(token) {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: params.issuer,
          audience: params.resourceUrl,
          algorithms: ['ES256'],
          typ: 'at+jwt',
        });
        return {
          token,
          clientId: String(payload.client_id ?? payload.azp ?? ''),
          scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
          expiresAt: payload.exp,
          resource: new URL(params.resourceUrl),
          extra: { sub: payload.sub },
        };
      } catch (cause) {
        throw invalidToken(cause instanceof Error ? cause.message : 'invalid token');
      }
    },
  };
}

/** The official SDK v1 stateless Streamable HTTP server on express, as in its stateless example. */
async function serveSdkV1() {
  const [
    { McpServer },
    { StreamableHTTPServerTransport },
    { requireBearerAuth },
    { InvalidTokenError },
    { z },
  ] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/mcp.js'),
    import('@modelcontextprotocol/sdk/server/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js'),
    import('@modelcontextprotocol/sdk/server/auth/errors.js'),
    import('zod'),
  ]);
  let createApp;
  try {
    const { createMcpExpressApp } = await import('@modelcontextprotocol/sdk/server/express.js');
    createApp = () => createMcpExpressApp({ host: HOST });
  } catch {
    const { default: express } = await import('express');
    createApp = () => express().use(express.json());
  }
  const getServer = () => {
    const server = new McpServer({ name: 'bench-sdk-v1', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes text', inputSchema: { text: z.string().max(1000) } },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    return server;
  };
  const app = createApp();
  const auth = requireBearerAuth({
    // Bearer errors must be the SDK's own classes to be answered 401 rather than 500.
    verifier: await makeJoseVerifier((message) => new InvalidTokenError(message)),
    requiredScopes: ['mcp:read'],
    expectedResource: new URL(params.resourceUrl),
  });
  app.post('/mcp', auth, async (req, res) => {
    const server = getServer();
    try {
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      res.on('close', () => {
        transport.close();
        server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      console.error(err);
      if (!res.headersSent) {
        res
          .status(500)
          .json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
      }
    }
  });
  await new Promise((resolve, reject) => {
    const server = app.listen(params.port, HOST, (err) => (err ? reject(err) : resolve()));
    server.once('error', reject);
  });
}

/** The official SDK v2 `createMcpHandler` web handler with its web-standard bearer gate. */
async function serveSdkV2() {
  const sdk = await import('@modelcontextprotocol/server');
  const [{ getRequestListener }, { z }] = await Promise.all([import('@hono/node-server'), import('zod')]);
  const handler = sdk.createMcpHandler(
    () => {
      const server = new sdk.McpServer({ name: 'bench-sdk-v2', version: '1.0.0' });
      server.registerTool(
        'echo',
        { description: 'Echoes text', inputSchema: z.object({ text: z.string().max(1000) }) },
        async ({ text }) => ({ content: [{ type: 'text', text }] }),
      );
      return server;
    },
    { responseMode: 'json', onerror: (err) => console.error(err) },
  );
  const gate = sdk.requireBearerAuth({
    verifier: await makeJoseVerifier(
      (message) => new sdk.OAuthError(sdk.OAuthErrorCode.InvalidToken, message),
    ),
    requiredScopes: ['mcp:read'],
    expectedResource: new URL(params.resourceUrl),
  });
  const hosts = sdk.localhostAllowedHostnames();
  const listener = getRequestListener(async (request) => {
    const rejected = sdk.hostHeaderValidationResponse(request, hosts);
    if (rejected) return rejected;
    const authInfo = await gate(request);
    if (authInfo instanceof Response) return authInfo;
    return handler.fetch(request, { authInfo });
  });
  await listenOn(createServer(listener));
}

function listenOn(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(params.port, HOST, () => resolve());
  });
}
