import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listen } from '../../src/adapters/node/listen.js';
import type { RampartConfigInput } from '../../src/config/index.js';
import { createRampart } from '../../src/core/create-rampart.js';
import { ConfigError } from '../../src/core/errors.js';
import { openKeyStore } from '../../src/stores/key-store.js';
import { defineTool } from '../../src/tools/index.js';
import { callTool } from '../helpers/mcp.js';
import { freePort } from '../helpers/net.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const slow = defineTool({
  name: 'slow',
  description: 'Answers after a delay',
  scope: 'mcp:read',
  input: z.object({ ms: z.number().int().min(0).max(5000) }),
  handler: async ({ ms }) => {
    await new Promise((r) => setTimeout(r, ms));
    return `waited ${ms}`;
  },
});

async function mintKey(dataDir: string): Promise<string> {
  const store = await openKeyStore(join(dataDir, 'rampart.db'));
  try {
    await store.keys.createUser('tester', []);
    return (await store.keys.createKey({ name: 't', userId: 'tester', scopes: ['mcp:read'] })).key;
  } finally {
    await store.close();
  }
}

function makeCert(name: string, cn: string, passphrase?: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      ...(passphrase ? ['-passout', `pass:${passphrase}`] : ['-nodes']),
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function peerCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('listen()', () => {
  it('refuses plain HTTP on a non-loopback address unless a TLS proxy is declared', async () => {
    const config: RampartConfigInput = {
      server: { host: '0.0.0.0', publicUrl: 'https://mcp.example.com', port: await freePort() },
      storage: { dataDir: join(dir, 'plain') },
      logging: { level: 'silent' },
    };
    const rampart = await createRampart({ config, tools: [slow] });
    await expect(listen(rampart)).rejects.toThrow(ConfigError);
    await expect(listen(rampart)).rejects.toThrow(/refusing to serve plain HTTP on 0\.0\.0\.0/);
    await rampart.close();
  });

  it('terminates TLS, sends HSTS, and reloads a replaced certificate', async () => {
    const first = makeCert('first', 'first-cert');
    const port = await freePort();
    const config: RampartConfigInput = {
      server: {
        port,
        tls: { enabled: true, certFile: join(dir, 'live.crt'), keyFile: join(dir, 'live.key') },
      },
      storage: { dataDir: join(dir, 'tls') },
      logging: { level: 'silent' },
    };
    renameSync(first.cert, join(dir, 'live.crt'));
    renameSync(first.key, join(dir, 'live.key'));
    const rampart = await createRampart({ config, tools: [slow], logger: pino({ level: 'silent' }) });
    const running = await listen(rampart);
    try {
      expect(running.url).toBe(`https://127.0.0.1:${port}`);
      const res = await new Promise<{ status: number; hsts: unknown }>((resolve, reject) => {
        httpsRequest(`${running.url}/healthz`, { rejectUnauthorized: false }, (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'] });
        })
          .on('error', reject)
          .end();
      });
      expect(res).toEqual({ status: 200, hsts: 'max-age=31536000; includeSubDomains' });
      expect(await peerCommonName(port)).toBe('first-cert');

      const second = makeCert('second', 'second-cert');
      renameSync(second.key, join(dir, 'live.key'));
      renameSync(second.cert, join(dir, 'live.crt'));
      const deadline = Date.now() + 8000;
      let cn = await peerCommonName(port);
      while (cn !== 'second-cert' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        cn = await peerCommonName(port);
      }
      expect(cn).toBe('second-cert');
    } finally {
      await running.close();
    }
  }, 20_000);

  it('opens an encrypted key with a passphrase from a secret reference, and names a wrong one', async () => {
    const { cert, key } = makeCert('locked', 'locked-cert', 'correct horse');
    const start = async (envName: string) => {
      const config: RampartConfigInput = {
        server: {
          port: await freePort(),
          tls: { enabled: true, certFile: cert, keyFile: key, keyPassphrase: `secret://env/${envName}` },
        },
        storage: { dataDir: join(dir, 'locked') },
        logging: { level: 'silent' },
      };
      return listen(await createRampart({ config, tools: [slow], logger: pino({ level: 'silent' }) }));
    };
    process.env.RAMPART_TEST_TLS_OK = 'correct horse';
    process.env.RAMPART_TEST_TLS_BAD = 'battery staple';
    try {
      const running = await start('RAMPART_TEST_TLS_OK');
      expect(await peerCommonName(running.port)).toBe('locked-cert');
      await running.close();
      const failure = await start('RAMPART_TEST_TLS_BAD').catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ConfigError);
      expect(String(failure)).toContain('server.tls');
      expect(String(failure)).not.toContain('battery');
      await expect(start('RAMPART_TEST_TLS_UNSET')).rejects.toThrow(/server\.tls\.keyPassphrase/);
    } finally {
      delete process.env.RAMPART_TEST_TLS_OK;
      delete process.env.RAMPART_TEST_TLS_BAD;
    }
  }, 20_000);

  it('finishes in-flight calls on shutdown and refuses new connections', async () => {
    const dataDir = join(dir, 'drain');
    const key = await mintKey(dataDir);
    const config: RampartConfigInput = {
      server: { port: await freePort() },
      storage: { dataDir },
      logging: { level: 'silent' },
    };
    const rampart = await createRampart({ config, tools: [slow], logger: pino({ level: 'silent' }) });
    const running = await listen(rampart);
    const mcpUrl = `${running.url}/mcp`;
    const inFlight = callTool(mcpUrl, key, 'slow', { ms: 400 });
    await new Promise((r) => setTimeout(r, 100));
    const closing = running.close();
    const { status, body } = await inFlight;
    expect(status).toBe(200);
    expect(body.result?.content).toEqual([{ type: 'text', text: 'waited 400' }]);
    await closing;
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  });
});
