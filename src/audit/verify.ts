import { createReadStream, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ChainHead, checkpointMac, GENESIS, hashBody, keyIdOf } from './chain.js';

/** What `verify` found wrong first, if anything. */
export interface ChainBreak {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly seq: number | undefined;
  readonly problem:
    | 'not_json'
    | 'altered' // the record's content does not match its hash
    | 'removed' // a gap in seq: records are missing before this one
    | 'reordered' // seq goes backwards or repeats
    | 'broken_link' // prev is not the hash of the record before
    | 'bad_checkpoint'; // a checkpoint's MAC does not verify under the key
  readonly detail: string;
}

/** The result of {@link verifyAuditLog}. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly checkpoints: number;
  /** Checkpoints whose MAC was checked (0 without the key). */
  readonly checkpointsVerified: number;
  readonly firstBreak?: ChainBreak;
  /** The last good record. */
  readonly head: ChainHead;
  /** True when the file ends in a torn line (a crash mid-write): reported, not a break. */
  readonly tornTail: boolean;
}

/**
 * Checks an audit log end to end: every record's hash over its content, every `prev` against the
 * record before, `seq` rising by one, and, given the key, every checkpoint's MAC. Stops at the
 * first problem and names it. A torn last line (no newline) is a crash, not tampering.
 */
export async function verifyAuditLog(path: string, key?: Buffer, start?: ChainHead): Promise<VerifyReport> {
  let head: ChainHead = start ?? { seq: 0, hash: GENESIS };
  // A file that begins after a rotation continues a chain whose start is in the file before it:
  // checked alone, its first record is taken as given (verifyAuditFiles checks the seam).
  let first = start === undefined;
  let lineNo = 0;
  let records = 0;
  let checkpoints = 0;
  let checkpointsVerified = 0;
  let pendingLine: string | undefined;
  const keyId = key ? keyIdOf(key) : undefined;
  // Before the reader exists: readline drops lines emitted before iteration begins.
  const endsWithNewline = await endsInNewline(path);
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });

  const fail = (problem: ChainBreak['problem'], seq: number | undefined, detail: string): VerifyReport => {
    lines.close();
    return {
      ok: false,
      records,
      checkpoints,
      checkpointsVerified,
      firstBreak: { line: lineNo, seq, problem, detail },
      head,
      tornTail: false,
    };
  };

  // One line behind the reader: the line after is at hand to tell a reordering from a removal,
  // and the last line can be recognised as torn.
  let pendingNo = 0;
  for await (const text of lines) {
    if (pendingLine !== undefined) {
      lineNo = pendingNo;
      const report = check(pendingLine, text);
      if (report) return report;
    }
    pendingNo++;
    pendingLine = text;
  }
  let tornTail = false;
  if (pendingLine !== undefined) {
    lineNo = pendingNo;
    if (!endsWithNewline) tornTail = true;
    else {
      const report = check(pendingLine, undefined);
      if (report) return report;
    }
  }
  return { ok: true, records, checkpoints, checkpointsVerified, head, tornTail };

  function check(text: string, next: string | undefined): VerifyReport | undefined {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(text);
    } catch {
      return fail('not_json', undefined, 'the line is not JSON');
    }
    const seq = typeof record.seq === 'number' ? record.seq : undefined;
    const { hash, ...body } = record;
    if (typeof hash !== 'string' || seq === undefined || hashBody(body) !== hash) {
      return fail('altered', seq, 'the record does not match its hash');
    }
    if (first && record.event === 'log.rotated' && typeof record.prev === 'string') {
      head = { seq: seq - 1, hash: record.prev };
    }
    first = false;
    if (seq <= head.seq) return fail('reordered', seq, `seq ${seq} after ${head.seq}`);
    if (seq > head.seq + 1) {
      const nextSeq = seqOf(next);
      if (nextSeq !== undefined && nextSeq > head.seq && nextSeq < seq) {
        return fail('reordered', seq, `seq ${seq} comes before seq ${nextSeq}`);
      }
      return fail('removed', seq, `records ${head.seq + 1}..${seq - 1} are missing`);
    }
    if (record.prev !== head.hash)
      return fail('broken_link', seq, 'prev is not the hash of the record before');
    if (record.event === 'checkpoint') {
      checkpoints++;
      if (key && record.keyId === keyId) {
        if (record.mac !== checkpointMac(key, head))
          return fail('bad_checkpoint', seq, 'the MAC does not verify');
        checkpointsVerified++;
      }
    } else {
      records++;
    }
    head = { seq, hash };
    return undefined;
  }
}

function seqOf(line: string | undefined): number | undefined {
  if (line === undefined) return undefined;
  try {
    const seq = (JSON.parse(line) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

async function endsInNewline(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size === 0) return true;
    const { buffer } = await file.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await file.close();
  }
}

/**
 * Verifies rotated logs and the current one as one chain, oldest first: each file on its own, and
 * each seam (a file's `log.rotated` record must continue the file before it). A missing or
 * reordered file breaks a seam.
 */
export async function verifyAuditFiles(
  paths: readonly string[],
  key?: Buffer,
): Promise<VerifyReport & { readonly file?: string }> {
  let start: ChainHead | undefined;
  let records = 0;
  let checkpoints = 0;
  let checkpointsVerified = 0;
  let last: VerifyReport | undefined;
  for (const [index, path] of paths.entries()) {
    const report = await verifyAuditLog(path, key, start);
    records += report.records;
    checkpoints += report.checkpoints;
    checkpointsVerified += report.checkpointsVerified;
    if (!report.ok || (report.tornTail && index < paths.length - 1)) {
      return { ...report, ok: false, records, checkpoints, checkpointsVerified, file: path };
    }
    start = report.head;
    last = report;
  }
  return {
    ok: true,
    records,
    checkpoints,
    checkpointsVerified,
    head: last?.head ?? { seq: 0, hash: GENESIS },
    tornTail: last?.tornTail ?? false,
  };
}

/** The rotated siblings of a log (`<path>.<12 digits>`), oldest first, then the log itself. */
export function auditLogFiles(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path);
  const rotated = readdirSync(dir)
    .filter((name) => name.startsWith(`${base}.`) && /^\d{12}$/.test(name.slice(base.length + 1)))
    .sort()
    .map((name) => join(dir, name));
  return [...rotated, path];
}
