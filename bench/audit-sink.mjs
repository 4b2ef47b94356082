// The audit sink alone: records per second to a hash-chained file, buffered and durable.
// Run by bench/run.mjs after the comparison, or on its own: npm run build && node bench/audit-sink.mjs
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileSink } from '../dist/audit/file-sink.js';
import { verifyAuditLog } from '../dist/audit/verify.js';

const measureSeconds = () => Number(process.env.BENCH_SECONDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'rampart-audit-bench-'));
const key = Buffer.alloc(32, 7);

/** A tool-call record as the endpoint writes it. */
const entry = (i) => ({
  event: 'tool.call',
  outcome: 'allow',
  reason: 'ok',
  principal: {
    iss: 'https://sso.example.com/realms/mcp',
    sub: 'bench-user',
    client: 'bench-client',
    auth: 'jwt',
  },
  tool: 'echo',
  method: 'tools/call',
  rpcId: i,
  argsHash: 'a3f1c9d2e4b5a6978877665544332211ffeeddccbbaa99887766554433221100',
  durationMs: 0.12,
  ip: '127.0.0.1',
  protocol: '2026-07-28',
  requestId: '0b6c1f1e-4a61-4e43-9d7e-1f4f3f0a9b2c',
});

async function buffered(name = 'buffered') {
  const path = join(dir, `${name}.log`);
  const sink = await openFileSink({ path, mode: 'buffered', checkpointKey: key });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < measureSeconds() * 1000) {
    for (let i = 0; i < 1000; i++) sink.append(entry(n++));
    // Let the writer run: a real server yields between requests.
    await new Promise((r) => setImmediate(r));
  }
  await sink.close();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { mode: 'buffered', records: n, seconds, cpuUs: (cpu.user + cpu.system) / n, path };
}

async function durable(concurrency) {
  const path = join(dir, `durable-${concurrency}.log`);
  const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  const deadline = start + measureSeconds() * 1000;
  const client = async () => {
    while (performance.now() < deadline) await sink.append(entry(n++));
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  await sink.close();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    mode: `durable, ${concurrency} waiting`,
    records: n,
    seconds,
    cpuUs: (cpu.user + cpu.system) / n,
    path,
  };
}

try {
  // Warm-up: the first seconds of a process run on unoptimised code.
  const measured = process.env.BENCH_SECONDS;
  process.env.BENCH_SECONDS = '1';
  await buffered('warm-up');
  if (measured === undefined) delete process.env.BENCH_SECONDS;
  else process.env.BENCH_SECONDS = measured;
  const results = [await buffered(), await durable(1), await durable(50)];
  console.log(
    `\nAudit sink alone (${measureSeconds()}s each; hash chain, checkpoint every 1000, file in ${tmpdir()}):`,
  );
  console.log('mode                      records/s   CPU µs/record   file MiB   verifies');
  for (const r of results) {
    const report = await verifyAuditLog(r.path, key);
    console.log(
      `${r.mode.padEnd(24)} ${String(Math.round(r.records / r.seconds)).padStart(10)} ${r.cpuUs.toFixed(2).padStart(15)} ${(statSync(r.path).size / 1048576).toFixed(1).padStart(10)}   ${report.ok ? 'yes' : 'NO'} (${report.records})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
