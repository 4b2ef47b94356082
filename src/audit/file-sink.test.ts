import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { hashBody } from './chain.js';
import { openFileSink } from './file-sink.js';
import type { AuditEntry } from './record.js';
import { auditLogFiles, verifyAuditFiles, verifyAuditLog } from './verify.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = Buffer.from('k'.repeat(32));
let n = 0;
const fresh = () => join(dir, `audit-${n++}.log`);
const entry = (i: number): AuditEntry => ({
  event: 'tool.call',
  outcome: 'allow',
  tool: 'echo',
  requestId: `req-${i}`,
  principal: { iss: 'rampart', sub: 'alice', auth: 'api_key', keyId: 'k1' },
});

async function writeLog(path: string, count: number, every = 10): Promise<string[]> {
  const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, checkpointEvery: every });
  await Promise.all(Array.from({ length: count }, (_, i) => sink.append(entry(i))));
  await sink.close();
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

describe('file sink and verifier', () => {
  it('writes one chain, with checkpoints, from concurrent appends (group commit)', async () => {
    const path = fresh();
    const lines = await writeLog(path, 45);
    const report = await verifyAuditLog(path, key);
    expect(report).toMatchObject({
      ok: true,
      records: 45,
      checkpoints: 5,
      checkpointsVerified: 5,
      tornTail: false,
    });
    expect(lines).toHaveLength(50);
    const first = JSON.parse(lines[0] as string);
    expect(first).toMatchObject({ seq: 1, prev: '0'.repeat(64), event: 'tool.call' });
    expect(first.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('names an altered record', async () => {
    const path = fresh();
    const lines = await writeLog(path, 20);
    lines[6] = (lines[6] as string).replace('"outcome":"allow"', '"outcome":"deny"');
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({
      line: 7,
      seq: 7,
      problem: 'altered',
    });
  });

  it('names a removed record', async () => {
    const path = fresh();
    const lines = await writeLog(path, 20);
    lines.splice(4, 1);
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({
      line: 5,
      seq: 6,
      problem: 'removed',
    });
  });

  it('names reordered records', async () => {
    const path = fresh();
    const lines = await writeLog(path, 20);
    [lines[2], lines[3]] = [lines[3] as string, lines[2] as string];
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({
      line: 3,
      seq: 4,
      problem: 'reordered',
    });
  });

  it('catches a rewrite with recomputed hashes through the keyed checkpoints', async () => {
    const path = fresh();
    const lines = await writeLog(path, 20);
    // The attacker edits record 3 and re-hashes the whole chain, but has no key for the MACs.
    let prev = '0'.repeat(64);
    const forged = lines.map((line, i) => {
      const { hash: _h, ...body } = JSON.parse(line);
      if (i === 2) body.outcome = 'deny';
      body.prev = prev;
      const hash = hashBody(body);
      prev = hash;
      return JSON.stringify({ ...body, hash });
    });
    writeFileSync(path, `${forged.join('\n')}\n`);
    expect((await verifyAuditLog(path)).ok).toBe(true); // without the key the chain alone cannot tell
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({
      seq: 11,
      problem: 'bad_checkpoint',
    });
  });

  it('treats a torn last line as a crash, and cuts it off before appending again', async () => {
    const path = fresh();
    await writeLog(path, 5, 1000);
    appendFileSync(path, '{"event":"tool.call","seq":6,"ts":"2026');
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true, records: 5, tornTail: true });
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key });
    await sink.append(entry(99));
    await sink.close();
    const report = await verifyAuditLog(path, key);
    expect(report).toMatchObject({ ok: true, records: 6, tornTail: false });
  });

  it('keeps one chain when two writers share the file', async () => {
    const path = fresh();
    const a = await openFileSink({ path, mode: 'durable', checkpointKey: key, checkpointEvery: 7 });
    const b = await openFileSink({ path, mode: 'buffered', checkpointKey: key, flushIntervalMs: 5 });
    for (let i = 0; i < 30; i++) {
      b.append(entry(1000 + i));
      await a.append(entry(i));
    }
    await b.close();
    await a.close();
    const report = await verifyAuditLog(path, key);
    expect(report).toMatchObject({ ok: true, records: 60 });
  });

  it('keeps the lock between batches under load, hands it to a writer that asks, and lets go when idle', async () => {
    const path = fresh();
    const busy = await openFileSink({ path, mode: 'durable', checkpointKey: key });
    let running = true;
    let sent = 0;
    let sawLockBetweenBatches = false;
    // 20 callers, each appending again as soon as its record is stored: batches follow each other.
    const callers = Array.from({ length: 20 }, async () => {
      while (running) {
        await busy.append(entry(sent++));
        if (existsSync(`${path}.lock`)) sawLockBetweenBatches = true;
      }
    });
    await new Promise((r) => setTimeout(r, 100));
    const other = await openFileSink({ path, mode: 'durable', checkpointKey: key });
    const asked = Date.now();
    await other.append(entry(-1));
    const waited = Date.now() - asked;
    await other.close();
    running = false;
    await Promise.all(callers);
    await busy.close();
    expect(sawLockBetweenBatches).toBe(true);
    expect(waited).toBeLessThan(2000);
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(existsSync(`${path}.want`)).toBe(false);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true, records: sent + 1 });
  });

  it('is not held back by the want file of a writer that went away', async () => {
    const path = fresh();
    writeFileSync(`${path}.want`, '999999:gone');
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${path}.want`, past, past);
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, lockTimeoutMs: 500 });
    await sink.append(entry(1));
    await sink.close();
    expect(existsSync(`${path}.want`)).toBe(false);
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true, records: 1 });
  });

  it('closes after every batch, also one that the end of a write started', async () => {
    const path = fresh();
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, checkpointEvery: 1000 });
    // The first append starts a write; the rest queue behind it and go out as the next batch when
    // it ends. close() must wait for that one too, and seal its checkpoint after it.
    const stored = Array.from({ length: 40 }, (_, i) => sink.append(entry(i)));
    await sink.close();
    await Promise.all(stored);
    const report = await verifyAuditLog(path, key);
    expect(report).toMatchObject({ ok: true, records: 40, checkpoints: 1 });
    expect(JSON.parse(readFileSync(path, 'utf8').trimEnd().split('\n').at(-1) as string).event).toBe(
      'checkpoint',
    );
  });

  it('cannot be made to forge a record through a field', async () => {
    const path = fresh();
    const sink = await openFileSink({ path, mode: 'durable' });
    await sink.append({
      ...entry(1),
      reason: '\n{"seq":2,"event":"auth.failure"}\r\n',
      tool: 'x"}\n{"seq":3',
    });
    await sink.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string).reason).toBe('\n{"seq":2,"event":"auth.failure"}\r\n');
    expect((await verifyAuditLog(path)).ok).toBe(true);
  });
});

describe('record layout', () => {
  it('seals every documented field but hash, in canonical order', async () => {
    const { BODY_FIELDS } = await import('./chain.js');
    const { AUDIT_FIELDS } = await import('./record.js');
    expect([...BODY_FIELDS]).toEqual(
      Object.keys(AUDIT_FIELDS)
        .filter((f) => f !== 'hash')
        .sort(),
    );
  });
});

describe('checkpoints by time', () => {
  it('adds a checkpoint once the interval has passed, however few records came', async () => {
    const path = join(dir, 'timed.log');
    const sink = await openFileSink({
      path,
      mode: 'durable',
      checkpointKey: key,
      checkpointEvery: 1000,
      checkpointIntervalMs: 50,
    });
    await sink.append(entry(1));
    await new Promise((r) => setTimeout(r, 80));
    await sink.append(entry(2));
    const events = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).event);
    expect(events).toEqual(['tool.call', 'tool.call', 'checkpoint']);
    await sink.close();
    expect(await verifyAuditLog(path, key)).toMatchObject({ ok: true, checkpointsVerified: 1 });
  });
});

describe('rotation', () => {
  it('rotates at the size limit and keeps one chain across the files', async () => {
    const path = join(dir, 'rotating', 'audit.log');
    const sink = await openFileSink({
      path,
      mode: 'durable',
      checkpointKey: key,
      checkpointEvery: 7,
      rotateBytes: 4000,
    });
    for (let i = 0; i < 60; i++) await sink.append(entry(i));
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(3);
    const report = await verifyAuditFiles(files, key);
    expect(report).toMatchObject({ ok: true, records: 60 + files.length - 1 });
    // Each rotated file verifies on its own too, and a later one starts with the seam record.
    expect((await verifyAuditLog(files[1] as string, key)).ok).toBe(true);
    const firstOfLast = JSON.parse(readFileSync(path, 'utf8').split('\n')[0] as string);
    expect(firstOfLast).toMatchObject({
      event: 'log.rotated',
      detail: { previous: expect.stringMatching(/^audit\.log\.\d{12}$/) },
    });
  });

  it('notices a rotated file that went missing', async () => {
    const path = join(dir, 'rotating-gap', 'audit.log');
    const sink = await openFileSink({ path, mode: 'durable', rotateBytes: 3000 });
    for (let i = 0; i < 40; i++) await sink.append(entry(i));
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(3);
    const withoutOne = files.filter((_, i) => i !== 1);
    const report = await verifyAuditFiles(withoutOne);
    expect(report.ok).toBe(false);
    expect(report.file).toBe(files[2]);
    expect(report.firstBreak?.problem).toBe('removed');
  });

  it('follows a rotation made by another writer', async () => {
    const path = join(dir, 'rotating-two', 'audit.log');
    const a = await openFileSink({ path, mode: 'durable', rotateBytes: 2500 });
    const b = await openFileSink({ path, mode: 'durable', rotateBytes: 2500 });
    for (let i = 0; i < 30; i++) {
      await a.append(entry(i));
      await b.append(entry(100 + i));
    }
    await a.close();
    await b.close();
    const files = auditLogFiles(path);
    const report = await verifyAuditFiles(files);
    expect(report).toMatchObject({ ok: true });
    expect(report.records).toBe(60 + files.length - 1);
  });
});

describe('tail across rotation', () => {
  it('reaches back into rotated files for the latest records', async () => {
    const { tailAuditLog } = await import('./read.js');
    const path = join(dir, 'rotating-tail', 'audit.log');
    const sink = await openFileSink({ path, mode: 'durable', rotateBytes: 2500 });
    for (let i = 0; i < 30; i++) await sink.append(entry(i));
    await sink.close();
    const { records: tail } = await tailAuditLog(path, { event: 'tool.call' }, 12);
    expect(tail.map((r) => r.requestId)).toEqual(Array.from({ length: 12 }, (_, i) => `req-${18 + i}`));
  });
});

describe('follow across rotation', () => {
  it('keeps printing across rotations, without skipping the end of a rotated file', async () => {
    const { followRecords } = await import('./read.js');
    const path = join(dir, 'rotating-follow', 'audit.log');
    const sink = await openFileSink({ path, mode: 'durable', rotateBytes: 2500 });
    await sink.append(entry(0));
    const seen: string[] = [];
    const stop = followRecords(
      path,
      statSync(path).size,
      (records) => {
        for (const r of records) if (r.requestId) seen.push(r.requestId);
      },
      20,
    );
    try {
      for (let i = 1; i <= 20; i++) {
        await sink.append(entry(i));
        await new Promise((r) => setTimeout(r, 15));
      }
      // A burst: several rotations between two polls.
      for (let i = 21; i <= 40; i++) await sink.append(entry(i));
      // Polls every 20 ms; on a loaded machine a few may pass before it has read everything.
      await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(40), { timeout: 5000, interval: 20 });
      expect(auditLogFiles(path).length).toBeGreaterThan(4);
      // Every record once, in order, also those written to a file just before it was rotated.
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => `req-${i + 1}`));
    } finally {
      stop();
      await sink.close();
    }
  });
});
