import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/net.js';

// The real `rampart` binary (dist/cli/main.js), built once here, run in a scratch directory.
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'dist/cli/main.js');
const cwd = mkdtempSync(join(tmpdir(), 'rampart-cli-'));

beforeAll(() => {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    {
      stdio: 'ignore',
    },
  );
}, 120_000);
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function rampart(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('rampart CLI', () => {
  it('prints help, and exits 2 on usage errors with one line', () => {
    expect(rampart('--help')).toMatchObject({ code: 0, out: expect.stringContaining('Commands:') });
    expect(rampart().code).toBe(2);
    const bogus = rampart('bogus');
    expect(bogus.code).toBe(2);
    expect(bogus.err).toBe('rampart: unknown command "bogus" (see rampart --help)\n');
    expect(rampart('keys', 'create', '--name', 'x').code).toBe(2);
  });

  it('manages users and keys: create (shown once), list, rotate with grace, revoke', () => {
    expect(rampart('users', 'add', 'alice', '--roles', 'admin').code).toBe(0);
    const created = rampart(
      'keys',
      'create',
      '--name',
      'ci',
      '--scopes',
      'mcp:read mcp:write',
      '--user',
      'alice',
      '--expires',
      '30d',
      '--json',
    );
    expect(created.code).toBe(0);
    const key = JSON.parse(created.out);
    expect(key.key).toMatch(/^rmp_[A-Za-z0-9_-]{43}_[A-Za-z0-9]{6}$/);
    expect(key.scopes).toEqual(['mcp:read', 'mcp:write']);

    const list = rampart('keys', 'list', '--json');
    expect(list.code).toBe(0);
    expect(list.out).not.toContain(key.key);
    expect(list.out).not.toMatch(/hash/i);
    expect(JSON.parse(list.out)).toEqual([
      expect.objectContaining({ id: key.id, name: 'ci', userId: 'alice' }),
    ]);

    const rotated = rampart('keys', 'rotate', key.id, '--grace', '1h', '--json');
    expect(rotated.code).toBe(0);
    const next = JSON.parse(rotated.out);
    expect(next.key).not.toBe(key.key);
    expect(next.replaces).toBe(key.id);

    const table = rampart('keys', 'list');
    expect(table.out).toMatch(/rotating/);
    expect(rampart('keys', 'revoke', next.id).code).toBe(0);
    const again = rampart('keys', 'revoke', next.id);
    expect(again.code).toBe(1);
    expect(again.err.trim().split('\n')).toHaveLength(1);

    // Every admin action is in the audit trail, with the actor and never a key.
    const trail = rampart('audit', 'tail', '--json', '-n', '10');
    expect(trail.code).toBe(0);
    const events = trail.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['user.created', 'key.created', 'key.rotated', 'key.revoked']);
    expect(events[1]).toMatchObject({
      detail: { keyId: key.id, userId: 'alice' },
      principal: { auth: 'cli' },
    });
    expect(trail.out).not.toContain(key.key);
    expect(rampart('audit', 'verify').out).toMatch(/^ok: 4 records/);
  });

  it('sets sign-in passwords and rotates the OAuth signing key', () => {
    expect(rampart('users', 'add', 'dora').code).toBe(0);
    const generated = rampart('users', 'password', 'dora', '--generate', '--json');
    expect(generated.code).toBe(0);
    expect(JSON.parse(generated.out).password).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const piped = spawnSync(process.execPath, [bin, 'users', 'password', 'dora', '--password-stdin'], {
      cwd,
      encoding: 'utf8',
      input: 'correct horse battery staple\n',
    });
    expect(piped.status).toBe(0);
    expect(rampart('users', 'password', 'nobody', '--generate').code).toBe(1);
    expect(rampart('users', 'password', 'dora').code).toBe(2);
    const first = JSON.parse(rampart('oauth', 'rotate-key', '--json').out).kid as string;
    const second = JSON.parse(rampart('oauth', 'rotate-key', '--json').out).kid as string;
    expect(first).not.toBe(second);
    const revoked = rampart('oauth', 'revoke-client', 'rc_none', '--json');
    expect(JSON.parse(revoked.out)).toEqual({ clientId: 'rc_none', revokedGrants: 0 });
  });

  it('checks a configuration: ok, unknown keys, bad values and literal secrets', () => {
    writeFileSync(join(cwd, 'good.yaml'), 'server:\n  port: 9000\n');
    expect(rampart('config', 'check', '--config', 'good.yaml')).toMatchObject({
      code: 0,
      out: 'good.yaml: OK\n',
    });
    writeFileSync(join(cwd, 'bad.yaml'), 'server:\n  port: nope\n  colour: red\n');
    const bad = rampart('config', 'check', '--config', 'bad.yaml');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('server.port');
    expect(bad.err).toContain('Unrecognized key');
    writeFileSync(join(cwd, 'secret.yaml'), 'server:\n  publicUrl: https://app:hunter2@mcp.example.com\n');
    const secret = rampart('config', 'check', '--config', 'secret.yaml', '--json');
    expect(secret.code).toBe(1);
    expect(JSON.parse(secret.out).problems).toEqual([
      expect.objectContaining({ path: 'server.publicUrl', message: expect.stringContaining('secret://') }),
    ]);
    expect(secret.out).not.toContain('hunter2');
  });

  it('prints the JSON Schema', () => {
    const schema = rampart('config', 'schema');
    expect(JSON.parse(schema.out)).toMatchObject({ type: 'object', additionalProperties: false });
  });

  it('serves the demo, prints the URLs and keys once, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'rampart-serve-'));
    const start = () => {
      const child = spawn(process.execPath, [bin, 'serve', '--demo', '--port', String(port)], { cwd: dir });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      const ready = new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (out.includes('Tools:')) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, ready, exited, output: () => out };
    };
    try {
      const first = start();
      await first.ready;
      expect(first.output()).toContain(`Rampart MCP endpoint:          http://127.0.0.1:${port}/mcp`);
      expect(first.output()).toContain(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
      const keys = first.output().match(/rmp_[A-Za-z0-9_-]+/g) ?? [];
      expect(keys).toHaveLength(2);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const second = start();
      await second.ready;
      expect(second.output()).not.toMatch(/rmp_/);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('keeps every answered call in the audit log through kill -9 under load (durable mode)', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'rampart-kill-'));
    writeFileSync(join(dir, 'rampart.yaml'), 'rateLimit: { enabled: false }\naudit: { mode: durable }\n');
    const child = spawn(process.execPath, [bin, 'serve', '--demo', '--port', String(port)], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      const deadline = Date.now() + 15_000;
      while (!/rmp_\S+[\s\S]*rmp_\S+/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const key = (out.match(/rmp_[A-Za-z0-9_-]+/) ?? [])[0] as string;
      const answered: number[] = [];
      let nextId = 1;
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const id = nextId++;
          try {
            const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${key}`,
                'content-type': 'application/json',
                accept: 'application/json',
                'mcp-protocol-version': '2025-11-25',
              },
              body: JSON.stringify({
                jsonrpc: '2.0',
                id,
                method: 'tools/call',
                params: { name: 'whoami', arguments: {} },
              }),
            });
            if (res.status === 200) answered.push(id);
            await res.arrayBuffer();
          } catch {
            return; // the server is gone
          }
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      await new Promise((r) => setTimeout(r, 1000));
      // An admin command appends to the log that the loaded server keeps writing: both take the
      // log's lock per batch, so the command gets its turn and the chain stays one.
      const admin = spawn(
        process.execPath,
        [bin, 'keys', 'create', '--name', 'ops', '--scopes', 'mcp:read'],
        {
          cwd: dir,
        },
      );
      expect(await new Promise<number | null>((resolve) => admin.on('exit', resolve))).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await exited;
      expect(answered.length).toBeGreaterThan(50);

      const verify = spawnSync(process.execPath, [bin, 'audit', 'verify'], { cwd: dir, encoding: 'utf8' });
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/^ok: \d+ records/);
      const logged = new Set(
        readFileSync(join(dir, '.rampart/audit.log'), 'utf8')
          .split('\n')
          .filter((l) => l.endsWith('}'))
          .map((l) => JSON.parse(l))
          .filter((r) => r.event === 'tool.call')
          .map((r) => r.rpcId),
      );
      const missing = answered.filter((id) => !logged.has(id));
      expect(missing).toEqual([]);
      expect(readFileSync(join(dir, '.rampart/audit.log'), 'utf8')).toMatch(
        /"name":"ops".*"event":"key\.created"/,
      );

      const tail = spawnSync(
        process.execPath,
        [bin, 'audit', 'tail', '--json', '-n', '3', '--tool', 'whoami'],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
      expect(tail.status).toBe(0);
      const lines = tail.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({ event: 'tool.call', tool: 'whoami', principal: { sub: 'alice' } });
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  const dist = (path: string) => JSON.stringify(join(root, path));
  it.each([
    {
      what: 'defineTool tools',
      source: `import { defineTool } from ${dist('dist/index.js')};
import { z } from ${dist('node_modules/zod/index.js')};
export const tools = [defineTool({ name: 'hello', description: 'Says hello', scope: 'mcp:read', input: z.object({}), handler: () => 'hello' })];
`,
      banner: 'Tools: hello',
    },
    {
      what: 'a mounted SDK server',
      source: `import { McpServer } from ${dist('node_modules/@modelcontextprotocol/server/dist/index.mjs')};
export const mount = {
  server: () => {
    const s = new McpServer({ name: 'mine', version: '1.0.0' });
    s.registerTool('hello', { description: 'Says hello' }, async () => ({ content: [{ type: 'text', text: 'hello' }] }));
    return s;
  },
  tools: { hello: 'mcp:read' },
};
`,
      banner: 'Mounted SDK server, tools: hello',
    },
  ])(
    'serves what a module exports (--tools): $what',
    async ({ source, banner }) => {
      const dir = mkdtempSync(join(tmpdir(), 'rampart-tools-'));
      const port = await freePort();
      writeFileSync(join(dir, 'tools.mjs'), source);
      const child = spawn(process.execPath, [bin, 'serve', '--tools', 'tools.mjs', '--port', String(port)], {
        cwd: dir,
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      try {
        const deadline = Date.now() + 15_000;
        while (!out.includes(banner) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(out).toContain(banner);
        const res = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST' });
        expect(res.status).toBe(401);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.on('exit', r));
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );

  it('refuses serve without --demo or --tools', () => {
    const r = rampart('serve');
    expect(r.code).toBe(2);
    expect(r.err).toBe('rampart: choose one of --demo and --tools MODULE\n');
  });
});

describe('the audit key', () => {
  it('is one key for processes that start at once on a new data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rampart-key-race-'));
    // Each waits for the same instant, then loads (and maybe makes) the key.
    const at = Date.now() + 1500;
    const script = `
      const { resolveConfig } = await import(${JSON.stringify(join(root, 'dist/config/index.js'))});
      const { loadCheckpointKey } = await import(${JSON.stringify(join(root, 'dist/audit/open.js'))});
      const config = resolveConfig({ storage: { dataDir: ${JSON.stringify(dataDir)} } });
      while (Date.now() < ${at});
      process.stdout.write((await loadCheckpointKey(config)).toString('utf8'));`;
    const keys = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
            let out = '';
            let err = '';
            child.stdout.on('data', (d) => {
              out += d;
            });
            child.stderr.on('data', (d) => {
              err += d;
            });
            child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
          }),
      ),
    );
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(keys).size).toBe(1);
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);
});

describe('the built package', () => {
  // A dependency that subclasses String (ioredis) once left String.prototype in V8's slow
  // dictionary mode, which made every string method call in the process a generic lookup.
  it('leaves the built-in prototypes in fast mode once imported', () => {
    const probe = `import(${JSON.stringify(join(root, 'dist/index.js'))}).then(() => {
      const protos = { String: String.prototype, Object: Object.prototype, Array: Array.prototype,
        Function: Function.prototype, RegExp: RegExp.prototype, Promise: Promise.prototype };
      const slow = Object.keys(protos).filter((name) => !%HasFastProperties(protos[name]));
      console.log(JSON.stringify(slow));
    });`;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', probe], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('writes every queued log line when the process exits', () => {
    const probe = `import(${JSON.stringify(join(root, 'dist/core/log-writer.js'))}).then(({ createLogWriter }) => {
      const writer = createLogWriter();
      for (let i = 0; i < 5000; i++) writer.write(JSON.stringify({ i }) + '\\n');
      process.exit(0);
    });`;
    const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect(JSON.parse(lines[4999] as string)).toEqual({ i: 4999 });
  });
});
