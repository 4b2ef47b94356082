// Rampart throughput/latency/CPU/RSS benchmark. `npm run bench` (builds first), or `node bench/run.mjs`.
//
// Each contender runs in its own child process pinned to CPU 0 (`taskset -c 0`); wrk runs pinned to
// CPU 1 with one thread and 50 connections. Environment:
//   BENCH_CONNECTIONS wrk connections (default 50); several (50,200) run every contender at each
//   BENCH_SECONDS  measured seconds per contender (default 10); warm-up is 2 s before each run
//   BENCH_ONLY     comma-separated contender names to run (default: all but the per-layer ones)
//   BENCH_RUNS     rounds over all contenders (default 1); each reports its median run
//   BENCH_KEEP_TMP keep the temporary directory (keys, token, Lua scripts, data dirs)
//   BENCH_NODE_FLAGS extra node flags for the servers (e.g. "--trace-deopt")
//   BENCH_SERVER_STDOUT append the servers' stdout to this file instead of discarding it
// Flags:
//   --profile[=name]  instead of the comparison, CPU-profile one contender (default rampart-nolog)
//                     under load and print the top self/inclusive-time functions
//   --no-flat         skip the RSS-flatness check

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { formatProfile, summarizeProfile } from './profile.mjs';
import { runWrk, writeLuaScript } from './wrk.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVERS = fileURLToPath(new URL('servers.mjs', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const SECONDS = positiveInt(process.env.BENCH_SECONDS, 10);
const RUNS = positiveInt(process.env.BENCH_RUNS, 1);
const WARMUP_SECONDS = 2;
// Several counts run every contender at each; ratios compare within one count. Durable audit
// batches scale with concurrency, so its ratio to bare depends on it (bench/README.md).
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '50').split(',').map((c) => positiveInt(c.trim(), 50));
const SERVER_CPU = '0';
const WRK_CPU = '1';
const ISSUER = 'https://auth.bench.invalid';
const ECHO_TEXT = 'hello from the bench';
const FLAT_CHECKPOINTS = [20_000, 60_000, 110_000];
const FLAT_MAX_SECONDS = 60;
const argv = process.argv.slice(2);
const profileArg = argv.find((a) => a === '--profile' || a.startsWith('--profile='));
const PROFILE = profileArg ? profileArg.split('=')[1] || 'rampart-nolog' : undefined;
const FLAT = !argv.includes('--no-flat');
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The MCP request everyone answers: tools/call echo, in the 2026-07-28 (modern) or 2025-06-18 form. */
function mcpRequest(era, token) {
  const params = { name: 'echo', arguments: { text: ECHO_TEXT } };
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    Authorization: `Bearer ${token}`,
  };
  if (era === 'modern') {
    params._meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    Object.assign(headers, {
      'MCP-Protocol-Version': '2026-07-28',
      'Mcp-Method': 'tools/call',
      'Mcp-Name': 'echo',
    });
  } else {
    headers['MCP-Protocol-Version'] = '2025-06-18';
  }
  return { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params }) };
}

/** The contenders, in run order. `bare` receives the modern request's bytes and ignores the headers. */
const CONTENDERS = [
  { name: 'bare', kind: 'bare', era: 'modern', note: 'node:http + JSON.parse, no auth (floor)' },
  {
    name: 'rampart',
    kind: 'rampart',
    era: 'modern',
    logRequests: true,
    layers: { rateLimit: true, audit: 'buffered', sanitize: true },
    note: 'everything on: rate limits, audit (buffered), sanitizer, access log',
  },
  {
    name: 'rampart-durable',
    kind: 'rampart',
    era: 'modern',
    logRequests: true,
    layers: { rateLimit: true, audit: 'durable', sanitize: true },
    note: 'the same, audit durable (fdatasync before answering, group commit)',
  },
  {
    name: 'rampart-nolog',
    kind: 'rampart',
    era: 'modern',
    logRequests: false,
    layers: { rateLimit: true, audit: 'buffered', sanitize: true },
    note: 'everything on but the access log',
  },
  {
    name: 'rampart-core',
    kind: 'rampart',
    era: 'modern',
    logRequests: false,
    layers: { rateLimit: false, audit: false, sanitize: false },
    note: 'JWT auth, scopes, validation only (no rate limits, audit, sanitizer or log)',
  },
  {
    name: 'rampart-nocache',
    kind: 'rampart',
    era: 'modern',
    logRequests: false,
    jwtCache: false,
    layers: { rateLimit: false, audit: false, sanitize: false },
    note: 'core, JWT cache off (verifies ES256 every request)',
  },
  {
    // Run only when named: separates durable mode's own CPU cost from the disk's sync latency.
    name: 'rampart-durable-shm',
    kind: 'rampart',
    era: 'modern',
    logRequests: true,
    extra: true,
    memfs: true,
    layers: { rateLimit: true, audit: 'durable', sanitize: true },
    note: 'rampart-durable with its log on tmpfs (/dev/shm): not durable, device latency removed',
  },
  // One layer at a time over rampart-core; run only when named in BENCH_ONLY.
  ...[
    ['rampart-ratelimit', { rateLimit: true, metrics: false }],
    ['rampart-audit', { audit: 'buffered', metrics: false }],
    ['rampart-sanitize', { sanitize: true, metrics: false }],
    ['rampart-metrics', { metrics: true }],
  ].map(([name, on]) => ({
    name,
    kind: 'rampart',
    era: 'modern',
    logRequests: false,
    extra: true,
    layers: { rateLimit: false, audit: false, sanitize: false, ...on },
    note: `core plus ${name.slice('rampart-'.length)} alone`,
  })),
  { name: 'sdk-v1', kind: 'sdk-v1', era: 'legacy', note: 'SDK 1.x express, stateless, bearer+jose' },
  { name: 'sdk-v2', kind: 'sdk-v2', era: 'modern', note: 'SDK 2.x createMcpHandler, bearer+jose' },
];

// ---- process hygiene: every child dies with us --------------------------------------------------

const live = new Set();
let tmp;
/** Data directories made on tmpfs, removed with `tmp`. */
const memfsDirs = [];
function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
}
function cleanup() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
  if (process.env.BENCH_KEEP_TMP) return;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  for (const dir of memfsDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping children`);
    process.exit(130);
  });
}

// ---- helpers -----------------------------------------------------------------------------------

function positiveInt(text, fallback) {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) is fields[12].
  return Number(fields[11]) + Number(fields[12]);
}

/** Per-CPU tick counters from /proc/stat: busy (user+nice+system+irq+softirq), idle (+iowait), steal. */
function cpuStat(cpu) {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/**
 * How noisy the server's CPU was: the share of its ticks spent on other processes than the server,
 * and stolen by the hypervisor. Both should be near 0 for trustworthy numbers.
 */
function noise(before, after, serverTicks) {
  const busy = after.busy - before.busy;
  const steal = after.steal - before.steal;
  const total = busy + (after.idle - before.idle) + steal;
  return {
    otherPct: total > 0 ? (100 * Math.max(0, busy - serverTicks)) / total : 0,
    stealPct: total > 0 ? (100 * steal) / total : 0,
  };
}

/** Share of a CPU's ticks that were busy (any process) or stolen between two readings. */
function busyPct(before, after) {
  const busy = after.busy - before.busy + after.steal - before.steal;
  const total = busy + (after.idle - before.idle);
  return total > 0 ? (100 * busy) / total : 0;
}

/** Resident set size in MiB (VmRSS of /proc/<pid>/status). */
function rssMiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function waitForMessage(child, predicate, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs);
    const onMessage = (m) => {
      if (m?.error) finish(new Error(`${what}: ${m.error}`));
      else if (predicate(m)) finish(undefined, m);
    };
    const onExit = (code) => finish(new Error(`server exited (${code}) while waiting for ${what}`));
    function finish(err, value) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** The server's GC pause totals so far (see bench/servers.mjs). */
async function gcStats(server) {
  server.child.send({ cmd: 'gc' });
  return (await waitForMessage(server.child, (m) => m?.gc, 10_000, 'gc stats')).gc;
}

async function startServer(contender, params, nodeFlags = []) {
  // stdout goes to /dev/null: Rampart's pino access log is written there, as in production to a pipe.
  const flags = [...nodeFlags, ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  const stdout = process.env.BENCH_SERVER_STDOUT ? openSync(process.env.BENCH_SERVER_STDOUT, 'a') : 'ignore';
  const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...flags, SERVERS], {
    cwd: ROOT,
    stdio: ['ignore', stdout, 'pipe', 'ipc'],
    env: { ...process.env, BENCH_PARAMS: JSON.stringify(params) },
  });
  track(child);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8000);
  });
  try {
    const ready = await waitForMessage(child, (m) => m?.ready, 30_000, `${contender.name} to listen`);
    if (ready.pid !== child.pid) throw new Error(`pid mismatch: ${ready.pid} != ${child.pid}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${contender.name} failed to start: ${err.message}\n${stderr}`);
  }
  return { child, pid: child.pid, stderr: () => stderr };
}

async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function memoryOf(server, gc = false) {
  server.child.send({ cmd: 'mem', gc });
  return waitForMessage(server.child, (m) => m?.mem, 5000, 'memory usage').then((m) => m.mem);
}

/** One request with fetch before any load: anything but 200 with the echoed text aborts the run. */
async function checkOnce(name, url, request) {
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  const text = await response.text();
  let echoed;
  try {
    echoed = JSON.parse(text)?.result?.content?.[0]?.text;
  } catch {}
  if (response.status !== 200 || echoed !== ECHO_TEXT) {
    throw new Error(`${name}: check request answered ${response.status}, not 200 with the echo:\n${text}`);
  }
}

function loudNon2xx(name, phase, w) {
  const sock = w.socketErrors;
  const sockTotal = sock.connect + sock.read + sock.write + sock.timeout;
  if (w.non2xx > 0) {
    console.error(
      `\n!!!!! ${name} (${phase}): ${w.non2xx} NON-2xx RESPONSES of ${w.requests} — results invalid !!!!!\n`,
    );
    process.exitCode = 1;
  }
  if (sockTotal > 0) console.error(`!!! ${name} (${phase}): socket errors ${JSON.stringify(sock)}`);
}

// ---- keys and tokens ---------------------------------------------------------------------------

async function makeIssuer(dir) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  // An RFC 9068 access token for the given resource (audience), scope mcp:read, valid for an hour.
  const mint = (audience) =>
    new SignJWT({ scope: 'mcp:read', client_id: 'bench-client' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer(ISSUER)
      .setSubject('bench-user')
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(randomUUID())
      .sign(privateKey);
  return { jwksFile, mint };
}

/** A fresh data directory in /dev/shm (tmpfs), for contenders that leave the disk out. */
function memfsDir(name) {
  if (!existsSync('/dev/shm')) throw new Error(`${name} needs /dev/shm (tmpfs)`);
  const dir = mkdtempSync(join('/dev/shm', `rampart-bench-${name}-`));
  memfsDirs.push(dir);
  return dir;
}

// ---- one contender -----------------------------------------------------------------------------

async function launch(contender, issuer, nodeFlags = []) {
  const port = await freePort();
  const resourceUrl = `http://127.0.0.1:${port}/mcp`;
  const dataDir = contender.memfs ? memfsDir(contender.name) : join(tmp, `data-${contender.name}`);
  mkdirSync(dataDir, { recursive: true });
  const server = await startServer(
    contender,
    {
      kind: contender.kind,
      port,
      resourceUrl,
      issuer: ISSUER,
      jwksFile: issuer.jwksFile,
      dataDir,
      logRequests: contender.logRequests,
      jwtCache: contender.jwtCache,
      layers: contender.layers,
    },
    nodeFlags,
  );
  const request = mcpRequest(contender.era, await issuer.mint(resourceUrl));
  await checkOnce(contender.name, resourceUrl, request);
  const script = join(tmp, `${contender.name}.lua`);
  writeLuaScript(script, request);
  const wrk = (seconds) =>
    runWrk({
      url: resourceUrl,
      script,
      seconds,
      connections: contender.connections ?? CONNECTIONS[0],
      cpu: WRK_CPU,
      track,
    });
  return { server, wrk };
}

async function benchOne(contender, issuer) {
  process.stderr.write(`${contender.name}: starting… `);
  const { server, wrk } = await launch(contender, issuer);
  try {
    const warm = await wrk(WARMUP_SECONDS);
    loudNon2xx(contender.name, 'warm-up', warm);
    const rssWarm = rssMiB(server.pid);
    const gc0 = await gcStats(server);
    const ticks0 = cpuTicks(server.pid);
    const stat0 = cpuStat(SERVER_CPU);
    const client0 = cpuStat(WRK_CPU);
    const w = await wrk(SECONDS);
    const ticks1 = cpuTicks(server.pid);
    const gc1 = await gcStats(server);
    const stat1 = cpuStat(SERVER_CPU);
    const client1 = cpuStat(WRK_CPU);
    const cpuNoise = noise(stat0, stat1, ticks1 - ticks0);
    const rssEnd = rssMiB(server.pid);
    loudNon2xx(contender.name, 'measured', w);
    const cpuSeconds = (ticks1 - ticks0) / CLK_TCK;
    const result = {
      name: contender.name,
      base: contender.base ?? contender.name,
      connections: contender.connections ?? CONNECTIONS[0],
      note: contender.note,
      era: contender.era,
      rps: w.rps,
      requests: w.requests,
      seconds: w.seconds,
      avgMs: w.avgMs,
      p50Ms: w.p50Ms,
      p90Ms: w.p90Ms,
      p99Ms: w.p99Ms,
      non2xx: w.non2xx,
      socketErrors: w.socketErrors,
      cpuSeconds,
      cpuUsPerRequest: (cpuSeconds * 1e6) / w.requests,
      cpuUtilPct: (100 * cpuSeconds) / w.seconds,
      gcPct: (100 * (gc1.scavengeMs + gc1.majorMs - gc0.scavengeMs - gc0.majorMs)) / (cpuSeconds * 1000),
      scavengeAvgMs: (gc1.scavengeMs - gc0.scavengeMs) / Math.max(1, gc1.scavenges - gc0.scavenges),
      majorGcs: gc1.majors - gc0.majors,
      cpu0OtherPct: cpuNoise.otherPct,
      cpu0StealPct: cpuNoise.stealPct,
      cpu1BusyPct: busyPct(client0, client1),
      rssWarmMiB: rssWarm,
      rssEndMiB: rssEnd,
      warmupRequests: warm.requests,
    };
    process.stderr.write(`${Math.round(w.rps)} req/s\n`);
    if (cpuNoise.otherPct + cpuNoise.stealPct > 5) {
      console.error(
        `!!! ${contender.name}: CPU ${SERVER_CPU} was ${fmt(cpuNoise.otherPct)}% busy with other processes and ${fmt(cpuNoise.stealPct)}% stolen: numbers are noisy`,
      );
    }
    return result;
  } finally {
    await stopServer(server);
  }
}

/**
 * RSS of a fresh rampart-nolog process at request-count checkpoints (20k, 60k, 110k+), same token
 * throughout. RSS is read as the process runs; heapUsed both as is and after two forced full GCs
 * (the process runs with --expose-gc), which separates live objects from garbage not yet collected.
 */
async function flatness(issuer, rpsHint) {
  const contender = CONTENDERS.find((c) => c.name === 'rampart-nolog');
  process.stderr.write('rss-flatness (rampart-nolog): ');
  const { server, wrk } = await launch(contender, issuer, ['--expose-gc']);
  const started = performance.now();
  const rps = Math.max(500, rpsHint ?? 2000);
  let total = 0;
  const points = [];
  const runUntil = async (target) => {
    while (total < target) {
      const left = FLAT_MAX_SECONDS - (performance.now() - started) / 1000;
      if (left < 1) break;
      const seconds = Math.min(Math.floor(left), Math.max(1, Math.ceil(((target - total) / rps) * 1.1)));
      const w = await wrk(seconds);
      loudNon2xx('rss-flatness', `to ${target}`, w);
      total += w.requests;
    }
    const rss = rssMiB(server.pid);
    const mem = await memoryOf(server, true);
    points.push({
      requests: total,
      rssMiB: rss,
      heapUsedMiB: mem.before.heapUsed / 2 ** 20,
      rssAfterGcMiB: mem.after.rss / 2 ** 20,
      heapUsedAfterGcMiB: mem.after.heapUsed / 2 ** 20,
      externalAfterGcMiB: mem.after.external / 2 ** 20,
    });
  };
  try {
    for (const target of FLAT_CHECKPOINTS) await runUntil(target);
  } finally {
    await stopServer(server);
  }
  const first = points[0];
  const last = points[points.length - 1];
  const result = {
    points,
    first,
    last,
    growthMiB: last.rssMiB - first.rssMiB,
    heapAfterGcGrowthMiB: last.heapUsedAfterGcMiB - first.heapUsedAfterGcMiB,
    maxSeconds: FLAT_MAX_SECONDS,
  };
  process.stderr.write(`${points.map((p) => `${p.rssMiB.toFixed(1)} MiB @ ${p.requests}`).join(' → ')}\n`);
  return result;
}

// ---- profiling mode ----------------------------------------------------------------------------

async function profile(name, issuer) {
  const contender = CONTENDERS.find((c) => c.name === name);
  if (!contender) throw new Error(`--profile: no contender named ${name}`);
  const { server, wrk } = await launch(contender, issuer);
  try {
    await wrk(WARMUP_SECONDS);
    server.child.send({ cmd: 'profile-start', intervalUs: 250 });
    await waitForMessage(server.child, (m) => m?.profiling, 10_000, 'profiler start');
    const w = await wrk(SECONDS);
    loudNon2xx(name, 'profiled', w);
    const file = join(RESULTS, `${name}.cpuprofile`);
    server.child.send({ cmd: 'profile-stop', file });
    await waitForMessage(server.child, (m) => m?.profiled, 60_000, 'profile');
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')));
    console.log(`\n${name} under profiler: ${Math.round(w.rps)} req/s (profiling overhead included)\n`);
    console.log(formatProfile(summary));
    writeFileSync(join(RESULTS, `${name}.profile-summary.json`), JSON.stringify(summary, null, 2));
    console.log(`\nprofile: ${file} (open in Chrome DevTools > Performance, or speedscope)`);
  } finally {
    await stopServer(server);
  }
}

// ---- report ------------------------------------------------------------------------------------

function fmt(n, digits = 0) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function printTable(results) {
  const cols = [
    ['server', (r) => r.name, CONNECTIONS.length > 1 ? 23 : 19],
    ['req/s', (r) => fmt(r.rps), 8],
    ...(RUNS > 1 ? [['range', (r) => `${fmt(r.rpsMin)}-${fmt(r.rpsMax)}`, 12]] : []),
    ['p50 ms', (r) => fmt(r.p50Ms, 2), 8],
    ['p99 ms', (r) => fmt(r.p99Ms, 2), 8],
    ['non-2xx', (r) => String(r.non2xx), 8],
    ['CPU µs/req', (r) => fmt(r.cpuUsPerRequest, 1), 11],
    ['GC %', (r) => fmt(r.gcPct, 1), 5],
    ['scav ms', (r) => fmt(r.scavengeAvgMs, 2), 8],
    ['CPU %', (r) => fmt(r.cpuUtilPct), 6],
    ['RSS warm', (r) => `${fmt(r.rssWarmMiB, 1)}M`, 9],
    ['RSS end', (r) => `${fmt(r.rssEndMiB, 1)}M`, 9],
    ['noise', (r) => `${fmt(r.cpu0OtherPct + r.cpu0StealPct)}%`, 6],
    ['CPU1', (r) => `${fmt(r.cpu1BusyPct)}%`, 5],
  ];
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][2]) : c.padStart(cols[i][2]))).join(' ');
  console.log(line(cols.map((c) => c[0])));
  console.log('-'.repeat(cols.reduce((n, c) => n + c[2] + 1, -1)));
  for (const r of results) console.log(`${line(cols.map((c) => c[1](r)))}   ${r.note}`);
}

/** The run with the median req/s, with the range over all runs. */
function medianRun(runs) {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  return { ...median, rpsMin: sorted[0].rps, rpsMax: sorted[sorted.length - 1].rps, runs: runs.length };
}

/** A/B ratios of the named pairs, within each connection count (suffixed ` c=N` when several). */
function ratios(results) {
  const out = {};
  for (const connections of CONNECTIONS) {
    const group = results.filter((r) => r.connections === connections);
    const suffix = CONNECTIONS.length > 1 ? ` c=${connections}` : '';
    for (const [pair, v] of Object.entries(pairRatios(group))) out[`${pair}${suffix}`] = v;
  }
  return out;
}

function pairRatios(results) {
  const by = Object.fromEntries(results.map((r) => [r.base, r]));
  const out = {};
  const pairs = [
    ['rampart', 'bare'],
    ['rampart', 'sdk-v1'],
    ['rampart', 'sdk-v2'],
    ['rampart-durable', 'bare'],
    ['rampart-durable-shm', 'bare'],
    ['rampart-nolog', 'bare'],
    ['rampart-core', 'bare'],
    ['rampart-core', 'sdk-v1'],
    ['rampart-core', 'sdk-v2'],
    ['rampart-nocache', 'sdk-v1'],
    ['rampart-nocache', 'sdk-v2'],
    ['sdk-v2', 'sdk-v1'],
  ];
  for (const [a, b] of pairs) {
    if (!by[a] || !by[b]) continue;
    out[`${a}/${b}`] = {
      rps: by[a].rps / by[b].rps,
      cpuPerRequest: by[a].cpuUsPerRequest / by[b].cpuUsPerRequest,
      p50: by[a].p50Ms / by[b].p50Ms,
    };
  }
  return out;
}

function environment() {
  const wrkVersion = spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    clkTck: CLK_TCK,
    wrk: wrkVersion,
    seconds: SECONDS,
    runs: RUNS,
    warmupSeconds: WARMUP_SECONDS,
    connections: CONNECTIONS.join(','),
    serverCpu: SERVER_CPU,
    wrkCpu: WRK_CPU,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
  };
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const picked = CONTENDERS.filter((c) =>
    PROFILE ? c.name === PROFILE : ONLY ? ONLY.includes(c.name) : !c.extra,
  );
  const chosen = CONNECTIONS.flatMap((connections) =>
    picked.map((c) =>
      CONNECTIONS.length > 1 ? { ...c, name: `${c.name}@${connections}`, base: c.name, connections } : c,
    ),
  );
  if (chosen.some((c) => c.kind === 'rampart') || (FLAT && !PROFILE && !ONLY)) {
    for (const f of ['dist/index.js', 'dist/auth/jwt/index.js']) {
      if (!existsSync(join(ROOT, f)))
        throw new Error(`${f} is missing: run \`npm run build\` (npm run bench does)`);
    }
  }
  for (const tool of ['wrk', 'taskset']) {
    if (spawnSync('which', [tool]).status !== 0) throw new Error(`${tool} is not installed`);
  }
  if (cpus().length < 2) console.error('warning: fewer than 2 CPUs; server and wrk will share a core');
  mkdirSync(RESULTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
  const issuer = await makeIssuer(tmp);

  if (PROFILE) {
    await profile(PROFILE, issuer);
    return;
  }

  const started = performance.now();
  // Rounds run every contender in turn, so that drift in the machine's speed reaches them all.
  const rounds = [];
  for (let round = 0; round < RUNS; round++) {
    if (RUNS > 1) process.stderr.write(`round ${round + 1} of ${RUNS}\n`);
    const results = [];
    for (const contender of chosen) results.push(await benchOne(contender, issuer));
    rounds.push(results);
  }
  const results = chosen.map((_, i) => medianRun(rounds.map((r) => r[i])));
  const nolog = results.find((r) => r.base === 'rampart-nolog');
  const flat =
    FLAT && (!ONLY || ONLY.includes('rampart-nolog')) ? await flatness(issuer, nolog?.rps) : undefined;

  const env = environment();
  console.log(
    `\nMCP tools/call echo, ${env.seconds}s per server after ${env.warmupSeconds}s warm-up; wrk -t1 -c${env.connections} on CPU ${env.wrkCpu}, server on CPU ${env.serverCpu}; ${env.node}, ${env.cpu}\n`,
  );
  printTable(results);
  const r = ratios(results);
  const perRound = rounds.map(ratios);
  console.log(
    `\nratios (A/B)${RUNS > 1 ? ' of the median runs' : ''}:  req/s   CPU/req   p50${RUNS > 1 ? '   req/s in each round' : ''}`,
  );
  for (const [pair, v] of Object.entries(r)) {
    const each = RUNS > 1 ? `   ${perRound.map((x) => fmt(x[pair]?.rps, 2)).join(' ')}` : '';
    console.log(
      `  ${pair.padEnd(CONNECTIONS.length > 1 ? 33 : 26)} ${fmt(v.rps, 2).padStart(6)} ${fmt(v.cpuPerRequest, 2).padStart(9)} ${fmt(v.p50, 2).padStart(6)}${each}`,
    );
  }
  if (flat) {
    console.log('\nRSS flatness (fresh rampart-nolog process, --expose-gc, same token throughout):');
    console.log('  requests    RSS     heapUsed  | after 2 full GCs: RSS   heapUsed  external');
    for (const p of flat.points) {
      console.log(
        `  ${String(p.requests).padStart(8)} ${fmt(p.rssMiB, 1).padStart(7)}M ${fmt(p.heapUsedMiB, 1).padStart(8)}M  |` +
          `${fmt(p.rssAfterGcMiB, 1).padStart(20)}M ${fmt(p.heapUsedAfterGcMiB, 1).padStart(8)}M ${fmt(p.externalAfterGcMiB, 1).padStart(8)}M`,
      );
    }
    console.log(
      `  RSS ${fmt(flat.first.rssMiB, 1)} → ${fmt(flat.last.rssMiB, 1)} MiB (${flat.growthMiB >= 0 ? '+' : ''}${fmt(flat.growthMiB, 1)}); ` +
        `live heap after GC ${fmt(flat.first.heapUsedAfterGcMiB, 1)} → ${fmt(flat.last.heapUsedAfterGcMiB, 1)} MiB`,
    );
    if (flat.last.requests < 100_000) {
      console.error(`!!! flatness check reached only ${flat.last.requests} requests in ${FLAT_MAX_SECONDS}s`);
    }
  }
  if (!ONLY || ONLY.includes('audit-sink')) {
    // The audit sink alone, pinned like a server, in its own process.
    execFileSync(
      'taskset',
      [
        '-c',
        String(env.serverCpu),
        process.execPath,
        fileURLToPath(new URL('./audit-sink.mjs', import.meta.url)),
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, BENCH_SECONDS: String(Math.min(env.seconds, 5)) },
      },
    );
  }
  const bad = rounds.flat().filter((x) => x.non2xx > 0);
  if (bad.length > 0)
    console.error(
      `\n!!!!! NON-2xx responses from: ${bad.map((x) => `${x.name} (${x.non2xx})`).join(', ')} !!!!!`,
    );
  const elapsed = (performance.now() - started) / 1000;
  console.log(`\ntotal ${fmt(elapsed)} s; results in bench/results/latest.json`);
  writeFileSync(
    join(RESULTS, 'latest.json'),
    `${JSON.stringify({ environment: env, results, ratios: r, rounds, rssFlatness: flat, elapsedSeconds: elapsed }, null, 2)}\n`,
  );
}

main().catch((err) => {
  console.error(`\nbench failed: ${err.stack ?? err}`);
  process.exitCode = 1;
  cleanup();
  process.exit(1);
});
