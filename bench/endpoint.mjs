// The MCP endpoint's own cost per request, in-process, one layer set at a time: no sockets, no HTTP
// parsing, so a layer's cost shows without the kernel's share. `npm run build && node bench/endpoint.mjs`
// (all sets) or `node bench/endpoint.mjs core audit` (some). Pin it for steadier figures:
// `taskset -c 0 node bench/endpoint.mjs`.
//
// Each request is the bench's tools/call echo with a cached ES256 token, fed to `rampart.endpoint`
// as an InboundRequest; 50 run concurrently and every worker yields to the event loop every 4
// requests, as a server does between socket reads (else timers, such as the audit flush, starve).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createRampart } from '../dist/index.js';
import { echo } from './echo-tool.mjs';

const ISSUER = 'https://auth.bench.invalid';
const RESOURCE = 'http://127.0.0.1:9999/mcp';
const CONCURRENCY = 50;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);
const ROUNDS = 3;

/** Layer sets: which of rate limits, audit, sanitizer and metrics (with detection) are on. */
const SETS = {
  core: {},
  ratelimit: { rateLimit: true },
  audit: { audit: 'buffered' },
  'audit-durable': { audit: 'durable' },
  sanitize: { sanitize: true },
  metrics: { metrics: true },
  all: { rateLimit: true, audit: 'buffered', sanitize: true, metrics: true },
};

const dir = mkdtempSync(join(tmpdir(), 'rampart-endpoint-bench-'));
const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
const token = await new SignJWT({ scope: 'mcp:read', client_id: 'bench' })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
  .setIssuer(ISSUER)
  .setSubject('bench-user')
  .setAudience(RESOURCE)
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(privateKey);
const body = Buffer.from(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: {
      name: 'echo',
      arguments: { text: 'hello from the bench' },
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  }),
);
const headers = {
  host: '127.0.0.1:9999',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: `Bearer ${token}`,
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
  'content-length': String(body.length),
};
const headerReader = {
  get: (name) => headers[name] ?? null,
  forEach: (callback) => {
    for (const name of Object.keys(headers)) callback(headers[name], name);
  },
};

/** The InboundRequest shape the Node adapter builds, minus the socket. */
class BenchRequest {
  method = 'POST';
  url = RESOURCE;
  headers = headerReader;
  remoteAddress = '127.0.0.1';
  readBody() {
    return Promise.resolve(body);
  }
  get signal() {
    return new AbortController().signal;
  }
}

async function measure(name, layers) {
  const rampart = await createRampart({
    tools: [echo],
    config: {
      server: { host: '127.0.0.1', port: 9999 },
      auth: {
        apiKeys: { enabled: false },
        jwt: {
          issuers: [
            {
              issuer: ISSUER,
              jwksFile: join(dir, 'jwks.json'),
              algorithms: ['ES256'],
              requiredTyp: 'at+jwt',
            },
          ],
        },
      },
      storage: { dataDir: join(dir, name) },
      logging: { requests: false },
      rateLimit: layers.rateLimit
        ? { perPrincipal: '100000000/s', perTool: '100000000/s' }
        : { enabled: false },
      audit: layers.audit ? { mode: layers.audit } : { enabled: false },
      sanitize: { enabled: layers.sanitize === true },
      detection: { enabled: layers.metrics === true },
      metrics: { enabled: layers.metrics === true },
    },
  });
  const { handle } = rampart.endpoint;
  const run = async (n) => {
    let left = n;
    const worker = async () => {
      let k = 0;
      while (left-- > 0) {
        const reply = await handle(new BenchRequest());
        if (reply.status !== 200) throw new Error(`${name}: status ${reply.status}: ${reply.body}`);
        if (++k % 4 === 0) await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  await run(20_000); // warm-up: optimised code, filled caches
  const perRequest = [];
  for (let i = 0; i < ROUNDS; i++) {
    const cpu = process.cpuUsage();
    await run(REQUESTS);
    const used = process.cpuUsage(cpu);
    perRequest.push((used.user + used.system) / REQUESTS);
  }
  await rampart.close();
  return Math.min(...perRequest);
}

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SETS);
try {
  const results = {};
  for (const name of names) {
    if (!(name in SETS)) throw new Error(`unknown layer set ${name}; one of ${Object.keys(SETS).join(', ')}`);
    results[name] = await measure(name, SETS[name]);
  }
  console.log(`\nEndpoint in-process, CPU µs a request (best of ${ROUNDS} rounds of ${REQUESTS}):`);
  for (const [name, us] of Object.entries(results)) {
    const diff = results.core === undefined || name === 'core' ? undefined : us - results.core;
    const over = diff === undefined ? '' : `  (${diff >= 0 ? '+' : ''}${diff.toFixed(1)})`;
    console.log(`  ${name.padEnd(14)} ${us.toFixed(1).padStart(6)}${over}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
