import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/audit/canonical.js';
import { checkpointMac, hashBody } from '../src/audit/chain.js';
import { openFileSink } from '../src/audit/file-sink.js';
import { readRecords, tailAuditLog } from '../src/audit/read.js';
import type { AuditEntry } from '../src/audit/record.js';
import { auditLogFiles, verifyAuditFiles, verifyAuditLog } from '../src/audit/verify.js';

// Attacks on `rampart audit verify` from the audit-trail review, and the legitimate logs that must
// still verify.
const dir = mkdtempSync(join(tmpdir(), 'rampart-verify-attacks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = Buffer.from('k'.repeat(32));
let n = 0;
const fresh = () => join(dir, `audit-${n++}.log`);
const entry = (i: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  event: 'tool.call',
  outcome: i % 3 === 0 ? 'deny' : 'allow',
  tool: `t${i}`,
  requestId: `req-${i}`,
  principal: { iss: 'rampart', sub: i % 2 ? 'alice' : 'bob', auth: 'api_key', keyId: 'k1' },
  ...extra,
});

async function writeLog(path: string, count: number, every = 5, extra: Partial<AuditEntry> = {}) {
  const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, checkpointEvery: every });
  for (let i = 1; i <= count; i++) await sink.append(entry(i, extra));
  await sink.close();
}

type Rec = Record<string, unknown>;
const linesOf = (path: string) => readFileSync(path, 'utf8').replace(/\n$/, '').split('\n');
const parse = (path: string) => linesOf(path).map((l) => JSON.parse(l) as Rec);
const write = (path: string, lines: readonly string[], newline = true) =>
  writeFileSync(path, `${lines.join('\n')}${newline ? '\n' : ''}`);
/** The line the writer stores for a record (canonical body, then `hash`). */
const seal = (record: Rec) => {
  const { hash: _drop, ...body } = record;
  return `${canonicalJson(body).slice(0, -1)},"hash":"${hashBody(body)}"}`;
};
/** What an attacker without the key does: renumber, relink and rehash every record. */
function rechain(records: Rec[]): string[] {
  let prev = { seq: 0, hash: '0'.repeat(64) };
  return records.map((record) => {
    const { hash: _drop, ...body } = record;
    body.seq = prev.seq + 1;
    body.prev = prev.hash;
    const hash = hashBody(body);
    prev = { seq: body.seq as number, hash };
    return seal({ ...body, hash });
  });
}

describe('keyed checkpoints (verify with the key)', () => {
  it('fails a rewrite whose checkpoints name another key: they vouch for nothing', async () => {
    const path = fresh();
    await writeLog(path, 12);
    const records = parse(path).filter((r) => r.seq !== 3);
    for (const r of records) if (r.event === 'checkpoint') r.keyId = '0000000000000000';
    write(path, rechain(records));
    expect((await verifyAuditLog(path)).ok).toBe(true); // the chain alone cannot tell
    const report = await verifyAuditLog(path, key, undefined, { checkpointEvery: 5 });
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ problem: 'no_checkpoint', line: 1 });
  });

  it('verifies a log whose key was changed: the new key vouches for what came before', async () => {
    const path = fresh();
    await writeLog(path, 12);
    const newKey = randomBytes(32);
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: newKey, checkpointEvery: 5 });
    for (let i = 13; i <= 24; i++) await sink.append(entry(i));
    await sink.close();
    expect(await verifyAuditLog(path, newKey, undefined, { checkpointEvery: 5 })).toMatchObject({
      ok: true,
      recordsAfterCheckpoint: 0,
    });
  });

  it('verifies two live writers of one log, and a writer restarted after a crash', async () => {
    const path = fresh();
    const options = { path, mode: 'durable' as const, checkpointKey: key, checkpointEvery: 10 };
    const a = await openFileSink(options);
    const b = await openFileSink(options);
    for (let i = 0; i < 6; i++) {
      await a.append(entry(2 * i));
      await b.append(entry(2 * i + 1));
    }
    // Both still running, as after a kill -9: each writer's own count is below 10, the chain's is not.
    expect(await verifyAuditLog(path, key, undefined, { checkpointEvery: 10 })).toMatchObject({ ok: true });
    const c = await openFileSink(options);
    for (let i = 0; i < 15; i++) await c.append(entry(100 + i));
    expect(await verifyAuditLog(path, key, undefined, { checkpointEvery: 10 })).toMatchObject({ ok: true });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('fails a checkpoint without a MAC', async () => {
    const path = fresh();
    await writeLog(path, 12);
    const records = parse(path);
    for (const r of records) if (r.event === 'checkpoint') delete r.mac;
    write(path, rechain(records));
    const report = await verifyAuditLog(path, key);
    expect(report.firstBreak).toMatchObject({ problem: 'bad_checkpoint', seq: 6 });
    expect(report.firstBreak?.detail).toMatch(/no MAC/);
  });

  it('fails a rewritten log with every checkpoint dropped, or turned into another event', async () => {
    const path = fresh();
    await writeLog(path, 12);
    const dropped = parse(path).filter((r) => r.event !== 'checkpoint' && r.seq !== 3);
    write(path, rechain(dropped));
    // Longer than one writer's run before its first checkpoint (5): it should have had one.
    const report = await verifyAuditLog(path, key, undefined, { checkpointEvery: 5 });
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ problem: 'no_checkpoint', line: 1, seq: 1 });
    expect(report.firstBreak?.detail).toMatch(/no checkpoint/);

    const relabelled = parse(path).map((r) => (r.event === 'checkpoint' ? { ...r, event: 'request' } : r));
    write(path, rechain(relabelled));
    expect((await verifyAuditLog(path, key, undefined, { checkpointEvery: 5 })).firstBreak?.problem).toBe(
      'no_checkpoint',
    );
    // A log no longer than that may be a writer that crashed before its first checkpoint: it
    // passes, with every record counted as unkeyed.
    expect(await verifyAuditLog(path, key, undefined, { checkpointEvery: 20 })).toMatchObject({
      ok: true,
      checkpointsVerified: 0,
      recordsAfterCheckpoint: 11,
    });
  });

  it('fails rotated files rewritten without their checkpoints', async () => {
    const path = join(dir, 'rot-rewrite', 'audit.log');
    const sink = await openFileSink({
      path,
      mode: 'durable',
      checkpointKey: key,
      checkpointEvery: 4,
      rotateBytes: 2000,
    });
    for (let i = 1; i <= 30; i++) await sink.append(entry(i));
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(2);
    expect(await verifyAuditFiles(files, key)).toMatchObject({ ok: true, recordsAfterCheckpoint: 0 });
    // Keep only the current file, rewritten as a fresh log without checkpoints.
    for (const file of files.slice(0, -1)) rmSync(file);
    const rest = parse(path).filter((r) => r.event !== 'checkpoint' && r.event !== 'log.rotated');
    write(path, rechain(rest));
    // Told that writers checkpoint more often than these records (a young log may have none).
    const every = Math.max(1, rest.length - 1);
    expect(
      (await verifyAuditFiles(auditLogFiles(path), key, { checkpointEvery: every })).firstBreak?.problem,
    ).toBe('no_checkpoint');
  });

  it('verifies a fresh log closed before checkpointEvery records (its closing checkpoint)', async () => {
    const path = fresh();
    await writeLog(path, 3, 1000);
    expect(await verifyAuditLog(path, key)).toMatchObject({
      ok: true,
      records: 3,
      checkpointsVerified: 1,
      recordsAfterCheckpoint: 0,
    });
  });

  it('verifies a log that ends in records after its last checkpoint (a crash), and counts them', async () => {
    const path = fresh();
    await writeLog(path, 12);
    // The closing checkpoint never made it: records 11 and 12 follow the checkpoint after 10.
    const lines = linesOf(path);
    expect(JSON.parse(lines.at(-1) as string).event).toBe('checkpoint');
    write(path, lines.slice(0, -1));
    expect(await verifyAuditLog(path, key)).toMatchObject({
      ok: true,
      records: 12,
      checkpointsVerified: 2,
      recordsAfterCheckpoint: 2,
    });
    // Without the key nothing is keyed.
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, recordsAfterCheckpoint: 12 });
  });

  it('verifies rotated logs of two writers with checkpoints as one keyed chain', async () => {
    const path = join(dir, 'rot-two-keyed', 'audit.log');
    const options = {
      path,
      mode: 'durable',
      checkpointKey: key,
      checkpointEvery: 3,
      rotateBytes: 2500,
    } as const;
    const a = await openFileSink(options);
    const b = await openFileSink(options);
    for (let i = 0; i < 25; i++) {
      await a.append(entry(i));
      await b.append(entry(100 + i));
    }
    await a.close();
    await b.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(3);
    const report = await verifyAuditFiles(files, key);
    expect(report).toMatchObject({ ok: true, recordsAfterCheckpoint: 0 });
    expect(report.checkpointsVerified).toBe(report.checkpoints);
  });
});

describe('a last line without a newline', () => {
  it('is checked as a record when it is JSON: a forged record fails', async () => {
    const path = fresh();
    await writeLog(path, 4);
    const forged = { seq: 6, ts: '2026-11-29T06:00:00.000Z', event: 'key.revoked', outcome: 'allow' };
    appendFileSync(path, JSON.stringify(forged));
    const report = await verifyAuditLog(path, key);
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ line: 6, problem: 'altered' });
  });

  it('is checked as a record when it is JSON: an altered last record fails', async () => {
    const path = fresh();
    await writeLog(path, 4);
    const lines = linesOf(path);
    const last = JSON.parse(lines[3] as string) as Rec;
    write(path, [...lines.slice(0, 3), JSON.stringify({ ...last, outcome: 'allow', tool: 'x' })], false);
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({
      line: 4,
      seq: 4,
      problem: 'altered',
    });
  });

  it('counts a whole record that only lacks its newline, and says so', async () => {
    const path = fresh();
    await writeLog(path, 4, 2);
    const lines = linesOf(path);
    // Without the closing checkpoint, and record 4 without its newline.
    write(path, lines.slice(0, -1), false);
    expect(await verifyAuditLog(path, key)).toMatchObject({
      ok: true,
      records: 4,
      tornTail: false,
      unterminatedRecord: true,
      recordsAfterCheckpoint: 2,
    });
  });

  it('is not shown by readRecords or tail until its newline is written', async () => {
    const path = fresh();
    await writeLog(path, 3, 1000);
    const lines = linesOf(path);
    const last = lines.at(-1) as string;
    write(path, lines.slice(0, -1));
    const size = readFileSync(path).length;
    appendFileSync(path, last);
    const first = await readRecords(path);
    expect(first.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(first.end).toBe(size);
    expect((await tailAuditLog(path, {}, 10)).records.map((r) => r.seq)).toEqual([1, 2, 3]);
    appendFileSync(path, '\n');
    const second = await readRecords(path, first.end);
    expect(second.records.map((r) => r.event)).toEqual(['checkpoint']);
    expect(second.end).toBe(readFileSync(path).length);
  });

  it('counts lines by their bytes: a CR stays part of its line', async () => {
    const path = fresh();
    writeFileSync(path, '{"seq":1}\r\n{"seq":2}\n');
    const { records, end } = await readRecords(path);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect(end).toBe(21);
  });
});

describe('canonical bytes', () => {
  const attacks: [string, (lines: string[]) => void][] = [
    ['a duplicate key', (l) => (l[2] = (l[2] as string).replace('{"event"', '{"outcome":"allow","event"'))],
    ['a \\u escape', (l) => (l[1] = (l[1] as string).replace('"tool":"t2"', '"tool":"\\u0074\\u0032"'))],
    ['whitespace', (l) => (l[1] = (l[1] as string).replace('{"event":', '{ "event" : '))],
    [
      'reordered keys',
      (l) => {
        const { event, ...rest } = JSON.parse(l[1] as string) as Rec;
        l[1] = JSON.stringify({ ...rest, event });
      },
    ],
    ['an escaped slash', (l) => (l[1] = (l[1] as string).replace('"tools/call"', '"tools\\/call"'))],
  ];
  it.each(attacks)('refuses %s', async (_name, mutate) => {
    const path = fresh();
    await writeLog(path, 4, 1000, { method: 'tools/call' });
    const lines = linesOf(path);
    const before = lines.join('\n');
    mutate(lines);
    expect(lines.join('\n')).not.toBe(before);
    write(path, lines);
    const report = await verifyAuditLog(path, key);
    expect(report.ok).toBe(false);
    expect(report.firstBreak?.problem).toBe('not_canonical');
  });

  it('refuses CRLF line ends and a byte-order mark', async () => {
    const path = fresh();
    await writeLog(path, 4, 1000);
    const lines = linesOf(path);
    writeFileSync(path, `${lines.join('\r\n')}\r\n`);
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({ line: 1, problem: 'not_canonical' });
    writeFileSync(path, `\ufeff${lines.join('\n')}\n`);
    expect((await verifyAuditLog(path, key)).ok).toBe(false);
  });

  it('refuses a fractional seq', async () => {
    const path = fresh();
    await writeLog(path, 4, 1000);
    const records = parse(path);
    const last = records.at(-1) as Rec;
    const extra: Rec = { ...(records[0] as Rec), seq: (last.seq as number) + 0.5, prev: last.hash };
    delete extra.hash;
    appendFileSync(path, `${seal({ ...extra, hash: hashBody(extra) })}\n`);
    expect((await verifyAuditLog(path, key)).ok).toBe(false);
  });

  it('verifies what the writer writes: non-ASCII, escapes, details, checkpoints, rotation', async () => {
    const path = join(dir, 'canonical-ok', 'audit.log');
    const sink = await openFileSink({
      path,
      mode: 'buffered',
      checkpointKey: key,
      checkpointEvery: 3,
      rotateBytes: 3000,
      flushIntervalMs: 1,
    });
    const odd = [
      'héllo wörld',
      '日本語',
      '😀',
      '\u2028\u2029',
      'tab\there',
      'nul\u0000',
      '\ud800',
      '"\\/',
      '\u007f\u0085',
    ];
    for (let i = 0; i < 30; i++) {
      const text = odd[i % odd.length] as string;
      sink.append({
        ...entry(i, { tool: text, reason: text, ip: '2001:db8::1', rpcId: i % 2 ? i * 1.5 : `id-${text}` }),
        durationMs: i * 0.37,
        principal: { iss: text, sub: text, auth: 'jwt', client: text },
        detail: { [text]: [text, i, null, { z: 1, a: -0, é: 1e21 }], b: true },
      });
      await sink.flush();
    }
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(2);
    expect(readFileSync(path, 'utf8')).toContain('"event":"log.rotated"');
    expect(await verifyAuditFiles(files, key)).toMatchObject({ ok: true, recordsAfterCheckpoint: 0 });
  });
});

describe('rotated files that do not end in a newline', () => {
  async function rotated(name: string) {
    const path = join(dir, name, 'audit.log');
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, rotateBytes: 1500 });
    for (let i = 0; i < 20; i++) await sink.append(entry(i));
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(2);
    return files;
  }

  it('names the file and line of a torn middle file', async () => {
    const files = await rotated('rot-torn');
    const middle = files[1] as string;
    const text = readFileSync(middle, 'utf8');
    writeFileSync(middle, text.replace(/\n$/, ''));
    const lineCount = text.trimEnd().split('\n').length;
    const report = await verifyAuditFiles(files, key);
    expect(report.ok).toBe(false);
    expect(report.file).toBe(middle);
    expect(report.firstBreak).toMatchObject({ line: lineCount, problem: 'torn' });
    expect(report.firstBreak?.detail).toMatch(/newline/);
  });

  it('names garbage appended to a middle file', async () => {
    const files = await rotated('rot-garbage');
    const middle = files[1] as string;
    const lineCount = readFileSync(middle, 'utf8').trimEnd().split('\n').length;
    appendFileSync(middle, '{"x":');
    const report = await verifyAuditFiles(files, key);
    expect(report.file).toBe(middle);
    expect(report.firstBreak).toMatchObject({ line: lineCount + 1, problem: 'torn' });
  });
});

describe('the MAC of a checkpoint', () => {
  it('still fails when it is wrong', async () => {
    const path = fresh();
    await writeLog(path, 6);
    const records = parse(path);
    const cp = records.find((r) => r.event === 'checkpoint') as Rec;
    cp.mac = checkpointMac(Buffer.from('x'.repeat(32)), { seq: 5, hash: cp.prev as string });
    write(path, rechain(records));
    expect((await verifyAuditLog(path, key)).firstBreak).toMatchObject({ seq: 6, problem: 'bad_checkpoint' });
  });
});
