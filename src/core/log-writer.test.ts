import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogWriter } from './log-writer.js';

let dir: string;
let path: string;
let fd: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-log-writer-'));
  path = join(dir, 'out.log');
  fd = openSync(path, 'a');
});
afterEach(() => {
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

const flushed = (writer: ReturnType<typeof createLogWriter>) =>
  new Promise<void>((resolve, reject) => writer.flush((error) => (error ? reject(error) : resolve())));

describe('createLogWriter', () => {
  it('writes a lone line within its interval, without more traffic', async () => {
    const writer = createLogWriter({ fd, flushIntervalMs: 20 });
    writer.write('{"msg":"one"}\n');
    expect(readFileSync(path, 'utf8')).toBe('');
    const deadline = Date.now() + 2000;
    while (readFileSync(path, 'utf8') === '' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(readFileSync(path, 'utf8')).toBe('{"msg":"one"}\n');
    writer.close();
  });

  it('keeps every line in order across many batches', async () => {
    const writer = createLogWriter({ fd, batchBytes: 200 });
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const line = `{"i":${i},"text":"${'é'.repeat(i % 7)}"}\n`;
      lines.push(line);
      writer.write(line);
      if (i % 97 === 0) await new Promise((r) => setImmediate(r));
    }
    await flushed(writer);
    expect(readFileSync(path, 'utf8')).toBe(lines.join(''));
    writer.close();
  });

  it('drops lines past its bound while output is slow, and says how many', async () => {
    const writer = createLogWriter({ fd, batchBytes: 100, maxPendingBytes: 1000 });
    for (let i = 0; i < 200; i++) writer.write(`${JSON.stringify({ i, pad: 'x'.repeat(30) })}\n`);
    await flushed(writer);
    const records = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const kept = records.filter((r) => 'i' in r);
    const notice = records.find((r) => 'dropped' in r);
    expect(kept.map((r) => r.i)).toEqual(kept.map((_, n) => n));
    expect(notice).toMatchObject({ level: 40, msg: 'log lines dropped: output too slow' });
    expect(kept.length + notice.dropped).toBe(200);
    writer.close();
  });

  it('answers a flush at once when nothing waits', async () => {
    const writer = createLogWriter({ fd });
    await flushed(writer);
    writer.write('a\n');
    writer.flushSync();
    expect(readFileSync(path, 'utf8')).toBe('a\n');
    await flushed(writer);
    writer.close();
  });
});
