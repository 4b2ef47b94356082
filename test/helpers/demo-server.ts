import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { listen, type RunningServer } from '../../src/adapters/node/listen.js';
import type { RampartConfigInput } from '../../src/config/index.js';
import { resolveConfig } from '../../src/config/index.js';
import { createRampart, type Rampart } from '../../src/core/create-rampart.js';
import { prepareDemo } from '../../src/demo/start.js';
import { openKeyStore } from '../../src/stores/key-store.js';
import { freePort } from './net.js';

/** A demo server on an ephemeral port, with keys for alice (admin) and bob (read-only). */
export interface DemoServer {
  readonly url: string;
  readonly mcpUrl: string;
  readonly rampart: Rampart;
  readonly running: RunningServer;
  readonly dataDir: string;
  readonly keys: { readonly admin: string; readonly reader: string; readonly aliceWriter: string };
  /** Login-page passwords of the demo users (alice is an admin, bob is not). */
  readonly passwords: Readonly<Record<string, string>>;
  /** Mints another key. */
  mintKey(
    user: string,
    scopes: string[],
    options?: { expiresAt?: number },
  ): Promise<{ id: string; key: string }>;
  stop(): Promise<void>;
}

/** Starts the demo (the same code as `npm start`) against a fresh data directory. */
export async function startDemoServer(config: RampartConfigInput = {}): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rampart-e2e-'));
  const port = await freePort();
  const input: RampartConfigInput = {
    ...config,
    server: { ...config.server, port },
    storage: { dataDir },
    logging: { level: 'silent', ...config.logging },
  };
  const resolved = resolveConfig(input);
  const demo = await prepareDemo(resolved);
  const admin = demo.mintedKeys.find((k) => k.label === 'admin')?.key as string;
  const reader = demo.mintedKeys.find((k) => k.label === 'read-only')?.key as string;
  const mintKey = async (user: string, scopes: string[], options: { expiresAt?: number } = {}) => {
    const store = await openKeyStore(join(dataDir, 'rampart.db'));
    try {
      if (!(await store.keys.getUser(user))) await store.keys.createUser(user, []);
      const { record, key } = await store.keys.createKey({
        name: `test ${user}`,
        userId: user,
        scopes,
        ...options,
      });
      return { id: record.id, key };
    } finally {
      await store.close();
    }
  };
  const aliceWriter = (await mintKey('alice', ['mcp:write'])).key;
  const rampart = await createRampart({
    config: input,
    tools: demo.tools,
    logger: pino({ level: 'silent' }),
  });
  const running = await listen(rampart);
  return {
    url: running.url,
    mcpUrl: `${running.url}/mcp`,
    rampart,
    running,
    dataDir,
    keys: { admin, reader, aliceWriter },
    passwords: Object.fromEntries(demo.mintedPasswords.map((p) => [p.user, p.password])),
    mintKey,
    async stop() {
      await running.close();
      await demo.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
