import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
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

  it('waits out a full non-blocking pipe and loses nothing', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writerFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      const writer = createLogWriter({ fd: writerFd, batchBytes: 1024 });
      const lines: string[] = [];
      // Several times what the pipe holds (64 KiB), before anyone reads.
      for (let i = 0; i < 6000; i++) {
        const line = `{"i":${i},"pad":"${'y'.repeat(40)}"}\n`;
        lines.push(line);
        writer.write(line);
      }
      const done = flushed(writer);
      let received = '';
      const chunk = Buffer.alloc(65536);
      const expected = lines.join('');
      const deadline = Date.now() + 10_000;
      while (received.length < expected.length && Date.now() < deadline) {
        try {
          const n = readSync(reader, chunk, 0, chunk.length, null);
          received += chunk.toString('utf8', 0, n);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      await done;
      expect(received).toBe(expected);
      writer.close();
    } finally {
      closeSync(writerFd);
      closeSync(reader);
    }
  });

  it('writes at once, in place, what waits while a batch is in flight', async () => {
    const writer = createLogWriter({ fd, batchBytes: 100 });
    const first = Array.from({ length: 5 }, (_, i) => `{"first":${i}}\n`);
    for (const line of first) writer.write(line); // starts an asynchronous write
    writer.write('{"second":0}\n');
    writer.flushSync();
    writer.write('{"third":0}\n');
    await flushed(writer);
    const text = readFileSync(path, 'utf8');
    const got = text.trim().split('\n').sort();
    expect(got).toEqual([...first.map((l) => l.trim()), '{"second":0}', '{"third":0}'].sort());
    writer.close();
  });

  it('gives up on a pipe nobody reads instead of hanging, and goes on writing afterwards', async () => {
    const fifo = join(dir, 'stuck');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writerFd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      const writer = createLogWriter({ fd: writerFd, batchBytes: 1024 });
      // More than the pipe holds: the first batch fills it and then waits to be tried again.
      for (let i = 0; i < 3000; i++) writer.write(`{"i":${i},"pad":"${'z'.repeat(60)}"}\n`);
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      writer.flushSync();
      expect(Date.now() - started).toBeLessThan(5000);
      // Drain what arrived, then the writer still delivers new lines.
      const chunk = Buffer.alloc(1 << 20);
      const drain = () => {
        let text = '';
        for (;;) {
          try {
            const n = readSync(reader, chunk, 0, chunk.length, null);
            if (n === 0) return text;
            text += chunk.toString('utf8', 0, n);
          } catch {
            return text;
          }
        }
      };
      drain();
      writer.write('{"after":true}\n');
      let seen = '';
      const deadline = Date.now() + 5000;
      while (!seen.includes('{"after":true}') && Date.now() < deadline) {
        seen += drain();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(seen).toContain('{"after":true}\n');
      writer.close();
    } finally {
      closeSync(writerFd);
      closeSync(reader);
    }
  }, 15_000);
});
