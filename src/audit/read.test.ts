import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { auditCommand } from '../cli/audit.js';
import type { DemoDb } from '../demo/db.js';
import { createDemoTools } from '../demo/tools.js';
import { openFileSink } from './file-sink.js';
import { type AuditFilter, followRecords, matchesFilter, TAIL_MAX_SCAN_BYTES, tailAuditLog } from './read.js';
import type { AuditEntry, AuditRecord } from './record.js';
import { auditLogFiles } from './verify.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** A fresh log path in its own folder (rotated files sit beside their log). */
const fresh = () => {
  const folder = join(dir, `log-${n++}`);
  mkdirSync(folder);
  return join(folder, 'audit.log');
};

const record = (seq: number, extra: Partial<AuditRecord> = {}): Record<string, unknown> => ({
  seq,
  ts: '2026-01-01T00:00:00.000Z',
  event: 'tool.call',
  outcome: 'allow',
  tool: 'echo',
  ...extra,
});
const jsonl = (records: readonly unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');
const seqs = (records: readonly AuditRecord[]) => records.map((r) => r.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The reference: every file read whole, oldest first; whole lines only; filter; the last `count`. */
function reference(path: string, filter: AuditFilter, count: number): AuditRecord[] {
  const all: AuditRecord[] = [];
  for (const file of auditLogFiles(path)) {
    const lines = readFileSync(file).toString('utf8').split('\n');
    lines.pop(); // after the last newline: empty, or a line still being written (or torn)
    for (const line of lines) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      const r = value as AuditRecord;
      if (r.event !== 'checkpoint' && matchesFilter(r, filter)) all.push(r);
    }
  }
  return count === 0 ? [] : all.slice(-count);
}

const entry = (i: number, tool = 'echo'): AuditEntry => ({
  event: 'tool.call',
  outcome: 'allow',
  tool,
  requestId: `req-${i}`,
  principal: { iss: 'rampart', sub: 'alice', auth: 'api_key', keyId: 'k1' },
});

describe('tailAuditLog', () => {
  it('returns the last N of many records, oldest first, reading only the end of the file', async () => {
    const path = fresh();
    writeFileSync(path, jsonl(range(1, 5000).map((i) => record(i))));
    const size = statSync(path).size;
    const tail = await tailAuditLog(path, {}, 10);
    expect(seqs(tail.records)).toEqual(range(4991, 5000));
    expect(tail.truncated).toBe(false);
    expect(tail.bytesScanned).toBeLessThanOrEqual(64 * 1024);
    expect(tail.bytesScanned).toBeLessThan(size);
    // The array-returning wrapper gives the same records.
    expect(seqs((await tailAuditLog(path, {}, 10)).records)).toEqual(range(4991, 5000));
  });

  it('finds a rare match spread across rotated files and the current one', async () => {
    const path = fresh();
    const sink = await openFileSink({ path, mode: 'durable', rotateBytes: 4000 });
    const rare = [3, 17, 40, 58, 71, 79];
    for (let i = 0; i < 80; i++) await sink.append(entry(i, rare.includes(i) ? 'rare' : 'echo'));
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(3);
    const tail = await tailAuditLog(path, { tool: 'rare' }, 5, { chunkBytes: 512 });
    expect(tail.records.map((r) => r.requestId)).toEqual([17, 40, 58, 71, 79].map((i) => `req-${i}`));
    expect(tail.truncated).toBe(false);
    // The oldest file was not needed, so it was not read.
    const total = files.reduce((sum, file) => sum + statSync(file).size, 0);
    expect(tail.bytesScanned).toBeLessThan(total);
    expect(tail.records).toEqual(reference(path, { tool: 'rare' }, 5));
    // All of them: every file is read, oldest first in the result.
    const all = await tailAuditLog(path, { tool: 'rare' }, 100, { chunkBytes: 512 });
    expect(all.records.map((r) => r.requestId)).toEqual(rare.map((i) => `req-${i}`));
    expect(all.bytesScanned).toBe(total);
  });

  it('leaves out checkpoints, and the log.rotated records pass like any other', async () => {
    const path = fresh();
    const key = Buffer.from('k'.repeat(32));
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, checkpointEvery: 3 });
    for (let i = 0; i < 10; i++) await sink.append(entry(i));
    await sink.close();
    expect(readFileSync(path, 'utf8')).toContain('"event":"checkpoint"');
    const tail = await tailAuditLog(path, {}, 100, { chunkBytes: 100 });
    expect(tail.records.map((r) => r.requestId)).toEqual(range(0, 9).map((i) => `req-${i}`));
  });

  it('skips a torn last line, and a whole record without its newline', async () => {
    const path = fresh();
    writeFileSync(path, `${jsonl([record(1), record(2), record(3)])}{"seq":4,"event":"tool.ca`);
    for (const chunkBytes of [1, 5, 64, 65_536])
      expect(seqs((await tailAuditLog(path, {}, 10, { chunkBytes })).records)).toEqual([1, 2, 3]);
    writeFileSync(path, `${jsonl([record(1), record(2)])}${JSON.stringify(record(3))}`);
    expect(seqs((await tailAuditLog(path, {}, 10, { chunkBytes: 7 })).records)).toEqual([1, 2]);
    // A file that is nothing but a torn line.
    writeFileSync(path, JSON.stringify(record(1)));
    expect((await tailAuditLog(path, {}, 10)).records).toEqual([]);
  });

  it('skips lines that are not JSON objects', async () => {
    const path = fresh();
    const lines = [
      '',
      JSON.stringify(record(1)),
      'garbage',
      '[1,2,3]',
      '"a string"',
      '42',
      'null',
      '{"seq":',
      JSON.stringify(record(2)),
      '',
      '\r',
      JSON.stringify(record(3)),
    ];
    writeFileSync(path, `${lines.join('\n')}\n`);
    for (const chunkBytes of [1, 3, 16, 65_536])
      expect(seqs((await tailAuditLog(path, {}, 10, { chunkBytes })).records)).toEqual([1, 2, 3]);
    expect(seqs((await tailAuditLog(path, {}, 2, { chunkBytes: 4 })).records)).toEqual([2, 3]);
  });

  it('decodes multi-byte characters that straddle a chunk boundary', async () => {
    const path = fresh();
    const texts = ['é', '€uro', '😀 smile', 'ü€😀é'.repeat(5), '中文字符', '\u2028'];
    const records = texts.map((text, i) => record(i + 1, { detail: { text } }));
    writeFileSync(path, jsonl(records));
    for (let chunkBytes = 1; chunkBytes <= 17; chunkBytes++) {
      const tail = await tailAuditLog(path, {}, 100, { chunkBytes });
      expect(tail.records.map((r) => r.detail?.text)).toEqual(texts);
    }
  });

  it('puts together a line longer than the chunk, and skips one over the line cap', async () => {
    const path = fresh();
    const long = 'x€'.repeat(5000);
    writeFileSync(
      path,
      jsonl([
        record(1),
        record(2, { detail: { long } }),
        record(3, { detail: { huge: 'y'.repeat(200_000) } }),
        record(4),
      ]),
    );
    const all = await tailAuditLog(path, {}, 10, { chunkBytes: 100 });
    expect(seqs(all.records)).toEqual([1, 2, 3, 4]);
    expect(all.records[1]?.detail?.long).toBe(long);
    // Over maxLineBytes: skipped rather than buffered; the lines around it still count.
    const capped = await tailAuditLog(path, {}, 10, { chunkBytes: 100, maxLineBytes: 50_000 });
    expect(seqs(capped.records)).toEqual([1, 2, 4]);
    // A torn last line over the cap too.
    writeFileSync(path, `${jsonl([record(1)])}${'z'.repeat(300_000)}`);
    expect(
      seqs((await tailAuditLog(path, {}, 10, { chunkBytes: 1000, maxLineBytes: 10_000 })).records),
    ).toEqual([1]);
  });

  it('stops at the scan limit, says so, and returns what it found so far', async () => {
    const path = fresh();
    const records = range(1, 2000).map((i) => record(i, i === 1 || i >= 1998 ? { outcome: 'deny' } : {}));
    writeFileSync(path, jsonl(records));
    const size = statSync(path).size;
    const tail = await tailAuditLog(path, { outcome: 'deny' }, 10, {
      maxScanBytes: 10_000,
      chunkBytes: 4096,
    });
    expect(seqs(tail.records)).toEqual([1998, 1999, 2000]);
    expect(tail.truncated).toBe(true);
    expect(tail.bytesScanned).toBe(10_000);
    // Nothing matching: still bounded.
    const none = await tailAuditLog(path, { tool: 'nothing' }, 10, { maxScanBytes: 10_000 });
    expect(none).toEqual({ records: [], truncated: true, bytesScanned: 10_000 });
    // With room enough, the first record is found and nothing is cut short.
    const whole = await tailAuditLog(path, { outcome: 'deny' }, 10, { maxScanBytes: size });
    expect(seqs(whole.records)).toEqual([1, 1998, 1999, 2000]);
    expect(whole.truncated).toBe(false);
    // Reaching the limit once the records are found is not truncation.
    const enough = await tailAuditLog(path, { outcome: 'deny' }, 3, { maxScanBytes: 1000 });
    expect(enough.truncated).toBe(false);
  });

  it('stops at the scan limit across rotated files: older files are not opened', async () => {
    const path = fresh();
    writeFileSync(`${path}.000000001000`, jsonl(range(1, 1000).map((i) => record(i, { tool: 'old' }))));
    writeFileSync(path, jsonl(range(1001, 1010).map((i) => record(i))));
    const current = statSync(path).size;
    const tail = await tailAuditLog(path, { tool: 'old' }, 5, { maxScanBytes: current });
    expect(tail).toEqual({ records: [], truncated: true, bytesScanned: current });
    const more = await tailAuditLog(path, { tool: 'old' }, 5, { maxScanBytes: current + 2000 });
    expect(seqs(more.records)).toEqual(range(996, 1000));
    expect(more.truncated).toBe(false);
  });

  it('returns every record when asked for more than there are', async () => {
    const path = fresh();
    writeFileSync(`${path}.000000000003`, jsonl(range(1, 3).map((i) => record(i))));
    writeFileSync(`${path}.000000000005`, jsonl(range(4, 5).map((i) => record(i))));
    writeFileSync(path, jsonl(range(6, 8).map((i) => record(i))));
    const tail = await tailAuditLog(path, {}, 1000, { chunkBytes: 9 });
    expect(seqs(tail.records)).toEqual(range(1, 8));
    expect(tail.truncated).toBe(false);
    expect(await tailAuditLog(path, {}, 0)).toEqual({ records: [], truncated: false, bytesScanned: 0 });
    // An empty current file (just rotated) passes on to the files before it.
    writeFileSync(path, '');
    expect(seqs((await tailAuditLog(path, {}, 2)).records)).toEqual([4, 5]);
  });

  it('reads only the end of a large file for the latest records', async () => {
    const path = fresh();
    // ~10 MB of records, written as a few big pieces.
    const piece = jsonl(range(1, 20_000).map((i) => record(i, { detail: { pad: 'p'.repeat(60) } })));
    writeFileSync(path, piece.repeat(3) + jsonl([record(1_000_001, { tool: 'last' })]));
    expect(statSync(path).size).toBeGreaterThan(8 * 1024 * 1024);
    const tail = await tailAuditLog(path, { tool: 'last' }, 1);
    expect(seqs(tail.records)).toEqual([1_000_001]);
    expect(tail.bytesScanned).toBe(64 * 1024);
    const latest = await tailAuditLog(path, {}, 200);
    expect(latest.records).toHaveLength(200);
    expect(latest.bytesScanned).toBeLessThanOrEqual(2 * 64 * 1024);
    const none = await tailAuditLog(path, { tool: 'absent' }, 1, { maxScanBytes: 4 * 1024 * 1024 });
    expect(none).toEqual({ records: [], truncated: true, bytesScanned: 4 * 1024 * 1024 });
  });

  it('stops at the default scan limit in a file far larger than it', async () => {
    const path = fresh();
    // 80 MiB without a newline (a sparse file: nothing on disk), then a few records.
    writeFileSync(path, '');
    truncateSync(path, 80 * 1024 * 1024);
    appendFileSync(path, `\n${jsonl(range(1, 5).map((i) => record(i)))}`);
    const latest = await tailAuditLog(path, {}, 3);
    expect(seqs(latest.records)).toEqual([3, 4, 5]);
    expect(latest.bytesScanned).toBe(64 * 1024);
    const none = await tailAuditLog(path, { tool: 'absent' }, 1);
    expect(none).toEqual({ records: [], truncated: true, bytesScanned: TAIL_MAX_SCAN_BYTES });
    expect(TAIL_MAX_SCAN_BYTES).toBe(64 * 1024 * 1024);
  });

  it('matches reading the whole log, on random logs and chunk sizes', async () => {
    const texts = fc.constantFrom('', 'a', 'é', '€', '😀', 'ab€😀', '\\n', '中');
    const line = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          tool: fc.constantFrom('a', 'b', 'c'),
          outcome: fc.constantFrom('allow', 'deny', 'error'),
          event: fc.constantFrom('tool.call', 'tool.call', 'checkpoint', 'request'),
          text: fc.array(texts, { maxLength: 6 }).map((parts) => parts.join('')),
        }),
      },
      { weight: 1, arbitrary: fc.constantFrom('', 'junk', '[1]', '7', 'null', '{"a":', '"x"', '{}') },
    );
    const file = fc.record({
      lines: fc.array(line, { maxLength: 12 }),
      // What follows the last newline: nothing, or a line being written or torn.
      tail: fc.constantFrom('', '{"seq":99,"event":"tool.call"}', '{"se', '€'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(file, { minLength: 1, maxLength: 3 }),
        fc.record({
          tool: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
          outcome: fc.option(fc.constantFrom('allow', 'deny', 'error'), { nil: undefined }),
        }),
        fc.nat({ max: 10 }),
        fc.integer({ min: 1, max: 16 }),
        fc.option(fc.nat({ max: 600 }), { nil: undefined }),
        async (files, filter, count, chunkBytes, maxScanBytes) => {
          const path = fresh();
          let seq = 0;
          files.forEach((f, i) => {
            const text = f.lines
              .map((l) =>
                typeof l === 'string' ? l : JSON.stringify({ seq: ++seq, ...l, detail: { t: l.text } }),
              )
              .map((l) => `${l}\n`)
              .join('');
            const name = i === files.length - 1 ? path : `${path}.${String(i).padStart(12, '0')}`;
            writeFileSync(name, text + f.tail);
          });
          const expected = reference(path, filter, count);
          const got = await tailAuditLog(path, filter, count, { chunkBytes, maxScanBytes });
          expect(got.bytesScanned).toBeLessThanOrEqual(maxScanBytes ?? TAIL_MAX_SCAN_BYTES);
          if (!got.truncated) expect(got.records).toEqual(expected);
          else {
            // Cut short: the latest of the matches, fewer than asked for, after the full budget.
            expect(got.records.length).toBeLessThan(count);
            expect(got.records).toEqual(expected.slice(expected.length - got.records.length));
            expect(got.bytesScanned).toBe(maxScanBytes);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('callers of tailAuditLog', () => {
  /** A log far larger than the default scan limit: 80 MiB without a newline, then records 1-5. */
  function hugeLog(): string {
    const path = fresh();
    writeFileSync(path, '');
    truncateSync(path, 80 * 1024 * 1024);
    appendFileSync(
      path,
      `\n${jsonl(range(1, 5).map((i) => record(i, { outcome: i === 4 ? 'deny' : 'allow' })))}`,
    );
    return path;
  }

  it('audit_tail says when the scan limit was reached', async () => {
    const path = hugeLog();
    const tools = createDemoTools({ db: {} as Kysely<DemoDb>, docsDir: dir, auditFile: path });
    const tool = tools.find((t) => t.name === 'audit_tail');
    if (!tool) throw new Error('no audit_tail');
    const call = (args: Record<string, unknown>) =>
      tool.handler(tool.input.parse(args) as never, {} as never) as Promise<Record<string, unknown>>;
    const found = await call({ lines: 1, outcome: 'deny' });
    expect(found).toEqual({ records: [expect.objectContaining({ seq: 4 })], scanLimitReached: false });
    const cut = await call({ lines: 2, outcome: 'deny' });
    expect(cut).toEqual({ records: [expect.objectContaining({ seq: 4 })], scanLimitReached: true });
  });

  it('rampart audit tail prints what it found and a note on stderr when the scan limit was reached', async () => {
    const path = hugeLog();
    const config = join(dir, 'rampart.yaml');
    writeFileSync(config, `storage: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\n`);
    let out = '';
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    try {
      await auditCommand(['tail', '--json', '--config', config, '--file', path, '--outcome', 'deny']);
      expect(
        out
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line).seq),
      ).toEqual([4]);
      expect(err).toBe(
        'note: stopped after reading 64 MiB of the log with 1 of 20 records found; older records were not searched\n',
      );
      out = '';
      err = '';
      await auditCommand(['tail', '--json', '-n', '2', '--config', config, '--file', path]);
      expect(
        out
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line).seq),
      ).toEqual([4, 5]);
      expect(err).toBe('');
    } finally {
      vi.restoreAllMocks();
    }
  });
});

describe('followRecords', () => {
  it('loses nothing when it looks while a rotation has renamed the log and not yet made the next', async () => {
    const path = fresh();
    const rotated = (seq: number) => `${path}.${String(seq).padStart(12, '0')}`;
    const pause = () => new Promise((r) => setTimeout(r, 120));
    writeFileSync(path, jsonl([record(1)]));
    const seen: unknown[] = [];
    const stop = followRecords(path, statSync(path).size, (records) => seen.push(...seqs(records)), 10);
    try {
      appendFileSync(path, jsonl([record(2)]));
      await pause();
      renameSync(path, rotated(2)); // rotated; the next file is not there yet
      await pause();
      // Two files made and one rotated away before the follower looks again.
      writeFileSync(path, jsonl([record(3), record(4)]));
      renameSync(path, rotated(4));
      writeFileSync(path, jsonl([record(5)]));
      await vi.waitFor(() => expect(seen).toEqual([2, 3, 4, 5]), { timeout: 5000, interval: 20 });
    } finally {
      stop();
    }
  });
});
