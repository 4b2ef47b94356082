import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openFileSink } from '../src/audit/file-sink.js';
import { auditLogFiles } from '../src/audit/verify.js';
import { auditCommand } from '../src/cli/audit.js';
import { printTable } from '../src/cli/output.js';

// What `rampart audit …` prints: a field of a record must never start a row or steer the terminal.
const dir = mkdtempSync(join(tmpdir(), 'rampart-audit-cli-'));
const config = join(dir, 'rampart.yaml');
const log = join(dir, 'audit.log');
writeFileSync(config, `storage: { dataDir: ${JSON.stringify(join(dir, 'data'))} }\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function captured(run: () => unknown): Promise<string> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await run();
  } finally {
    vi.restoreAllMocks();
  }
  return out;
}

const HOSTILE = [
  'x\n7  2026-01-01T00:00:00.000Z  tool.call  allow  ok  root  forged',
  'esc\u001b[2J\u001b[31mred',
  'cr\rback',
  'c1\u009b31mcsi',
  'del\u007f',
  'line\u2028sep\u2029para',
  'bidi\u202eevil',
];

describe('table cells', () => {
  it('show control characters as visible escapes', async () => {
    const out = await captured(() => printTable([{ a: HOSTILE.join('|'), b: 1 }], ['a', 'b']));
    expect(out.split('\n')).toHaveLength(3); // header, one row, and the end
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be printed raw
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
    expect(out).toContain('x\\n7  2026');
    expect(out).toContain('esc\\x1b[2J\\x1b[31mred');
    expect(out).toContain('cr\\rback');
    expect(out).toContain('c1\\x9b31mcsi');
    expect(out).toContain('del\\x7f');
    expect(out).toContain('line\\u2028sep\\u2029para');
    expect(out).toContain('bidi\\u202eevil');
  });
});

describe('rampart audit tail', () => {
  it('cannot be made to print a forged row by a tool name', async () => {
    const sink = await openFileSink({ path: log, mode: 'durable' });
    for (const tool of HOSTILE)
      await sink.append({
        event: 'tool.call',
        outcome: 'deny',
        tool,
        principal: { iss: 'i', sub: tool, auth: 'jwt' },
      });
    await sink.close();
    const out = await captured(() => auditCommand(['tail', '--config', config, '--file', log]));
    expect(out.trimEnd().split('\n')).toHaveLength(HOSTILE.length + 1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be printed raw
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
  });
});

describe('rampart audit verify', () => {
  it('prints the records after the last verified checkpoint', async () => {
    const path = join(dir, 'keyed.log');
    // The key where the CLI looks for it: <dataDir>/audit.key.
    const key = Buffer.from('k'.repeat(32));
    mkdirSync(join(dir, 'keyed-data'));
    writeFileSync(join(dir, 'keyed-data', 'audit.key'), key);
    const keyed = join(dir, 'keyed.yaml');
    writeFileSync(keyed, `storage: { dataDir: ${JSON.stringify(join(dir, 'keyed-data'))} }\n`);
    const sink = await openFileSink({ path, mode: 'durable', checkpointKey: key, checkpointEvery: 2 });
    for (let i = 0; i < 5; i++) await sink.append({ event: 'tool.call', outcome: 'allow', tool: 't' });
    await sink.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, `${lines.slice(0, -1).join('\n')}\n`); // no closing checkpoint: a crash
    const out = await captured(() => auditCommand(['verify', '--config', keyed, '--file', path]));
    expect(out).toMatch(/^ok: 5 records, 2 checkpoints \(2 verified with the key\)/);
    expect(out).toMatch(/1 record after the last verified checkpoint/);
    expect(process.exitCode).toBeUndefined();
  });

  it('names the file, line and problem of a rotated file without its newline', async () => {
    const path = join(dir, 'rot', 'audit.log');
    const sink = await openFileSink({ path, mode: 'durable', rotateBytes: 800 });
    for (let i = 0; i < 12; i++) await sink.append({ event: 'tool.call', outcome: 'allow', tool: 't' });
    await sink.close();
    const files = auditLogFiles(path);
    expect(files.length).toBeGreaterThan(2);
    const middle = files[1] as string;
    writeFileSync(middle, readFileSync(middle, 'utf8').replace(/\n$/, ''));
    const out = await captured(() => auditCommand(['verify', '--config', config, '--file', path]));
    expect(out).toMatch(/^BROKEN at line \d+ of .*audit\.log\.\d{12} \(seq \d+\): torn: /);
    expect(out).not.toMatch(/undefined/);
    expect(process.exitCode).toBe(1);
    const json = await captured(() => auditCommand(['verify', '--json', '--config', config, '--file', path]));
    expect(JSON.parse(json).firstBreak).toMatchObject({ problem: 'torn', line: expect.any(Number) });
  });
});
