import { createReadStream, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { canonicalJson } from './canonical.js';
import { type ChainHead, checkpointMac, GENESIS, hashText, keyIdOf, sealedLine } from './chain.js';

/**
 * What `verify` found wrong. Stable codes (docs/audit.md):
 * - `not_json`: a line is not a JSON object.
 * - `altered`: a record does not match its hash, or lacks a whole-number `seq` or a `hash`.
 * - `not_canonical`: a record's bytes are not exactly what the writer writes for it (whitespace,
 *   escapes, key order, duplicate keys, CRLF): tools that read raw lines could see other content.
 * - `removed`: a gap in `seq`: records are missing before this one.
 * - `reordered`: `seq` goes backwards or repeats.
 * - `broken_link`: `prev` is not the hash of the record before.
 * - `bad_checkpoint`: with the key, a checkpoint under it has no MAC, or its MAC is wrong.
 * - `no_checkpoint`: with the key, more records than writers write between two checkpoints
 *   (`checkpointEvery`) follow the last checkpoint that verifies under it (or there is none).
 * - `torn`: a rotated (not the current) file does not end in a newline.
 */
export type ChainProblem =
  | 'not_json'
  | 'altered'
  | 'not_canonical'
  | 'removed'
  | 'reordered'
  | 'broken_link'
  | 'bad_checkpoint'
  | 'no_checkpoint'
  | 'torn';

/** What `verify` found wrong first, if anything. */
export interface ChainBreak {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly seq: number | undefined;
  readonly problem: ChainProblem;
  readonly detail: string;
}

/** The result of {@link verifyAuditLog}. */
export interface VerifyReport {
  readonly ok: boolean;
  /** Records other than checkpoints. */
  readonly records: number;
  readonly checkpoints: number;
  /** Checkpoints whose MAC was checked (0 without the key). */
  readonly checkpointsVerified: number;
  /**
   * Records after the last checkpoint verified with the key (all of them without the key): they
   * are only hash-chained, so whoever can write the log could have changed or cut them.
   */
  readonly recordsAfterCheckpoint: number;
  readonly firstBreak?: ChainBreak;
  /** The last good record. */
  readonly head: ChainHead;
  /** True when the file ends in a torn line that is not JSON (a crash mid-write): reported, not a break. */
  readonly tornTail: boolean;
  /** True when the last line lacks its newline but is a whole record: it was checked like the others. */
  readonly unterminatedRecord: boolean;
}

/** A line of a file, split at `\n` only (a `\r` stays part of its line). */
export interface FileLine {
  /** The line's bytes, without its newline. */
  readonly bytes: Buffer;
  /** False for a last line with no newline after it. */
  readonly terminated: boolean;
  /** The byte offset just after the line (and its newline). */
  readonly end: number;
}

/** The lines of a file from byte `start` up to byte `end` (exclusive; default: the end of the file). */
export async function* fileLines(path: string, start = 0, end?: number): AsyncGenerator<FileLine> {
  if (end !== undefined && end <= start) return;
  const stream = createReadStream(path, end === undefined ? { start } : { start, end: end - 1 });
  let parts: Buffer[] = [];
  let offset = start;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      const piece = chunk.subarray(from, nl);
      const bytes = parts.length === 0 ? piece : Buffer.concat([...parts, piece]);
      parts = [];
      offset += bytes.length + 1;
      yield { bytes, terminated: true, end: offset };
      from = nl + 1;
    }
    if (from < chunk.length) parts.push(chunk.subarray(from));
  }
  if (parts.length > 0) {
    const bytes = Buffer.concat(parts);
    yield { bytes, terminated: false, end: offset + bytes.length };
  }
}

/**
 * Checks an audit log end to end: every line's bytes against what the writer writes for its
 * record, every hash, every `prev` against the record before, `seq` rising by one, and, given the
 * key, every checkpoint's key id and MAC, and that at least one checkpoint vouches for the records.
 * Stops at the first problem and names it. A last line without a newline is checked as a record
 * when it is JSON; when it is not, it is a torn write (a crash), reported but not a break.
 *
 * @param start - The chain head before the file (the file before it, when rotated).
 */
export async function verifyAuditLog(
  path: string,
  key?: Buffer,
  start?: ChainHead,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const { file: _file, ...report } = await verifyChain([path], key, start, options);
  return report;
}

/** Options of {@link verifyAuditLog} and {@link verifyAuditFiles}. */
export interface VerifyOptions {
  /**
   * The writers' `checkpointEvery` (default 1000): they checkpoint at least this often along the
   * chain. With the key, up to this many records after the last verified checkpoint pass (a writer
   * may have stopped before its next one: a crash), counted in `recordsAfterCheckpoint`; more fail
   * with `no_checkpoint`.
   */
  readonly checkpointEvery?: number;
}

/**
 * Verifies rotated logs and the current one as one chain, oldest first: each file on its own, and
 * each seam (a file's `log.rotated` record must continue the file before it). A missing or
 * reordered file breaks a seam; a rotated file must end in a newline. With the key, checkpoints
 * anywhere in the chain vouch for everything before them.
 */
export function verifyAuditFiles(
  paths: readonly string[],
  key?: Buffer,
  options: VerifyOptions = {},
): Promise<VerifyReport & { readonly file?: string }> {
  return verifyChain(paths, key, undefined, options);
}

async function verifyChain(
  paths: readonly string[],
  key: Buffer | undefined,
  start: ChainHead | undefined,
  options: VerifyOptions,
): Promise<VerifyReport & { readonly file?: string }> {
  const every = options.checkpointEvery ?? 1000;
  const keyId = key ? keyIdOf(key) : undefined;
  let head: ChainHead = start ?? { seq: 0, hash: GENESIS };
  // A file that begins after a rotation continues a chain whose start is in the file before it:
  // checked alone, its first record is taken as given (the seam is checked with the file before).
  let first = start === undefined;
  let records = 0;
  let checkpoints = 0;
  let checkpointsVerified = 0;
  let afterCheckpoint = 0;
  let firstUnkeyed: { file: string; line: number; seq: number } | undefined;
  let tornTail = false;
  let unterminatedRecord = false;
  let file = '';
  let lineNo = 0;

  const report = (firstBreak?: ChainBreak) => ({
    ok: firstBreak === undefined,
    records,
    checkpoints,
    checkpointsVerified,
    recordsAfterCheckpoint: afterCheckpoint,
    ...(firstBreak ? { firstBreak, file } : {}),
    head,
    tornTail,
    unterminatedRecord,
  });
  const broken = (problem: ChainProblem, seq: number | undefined, detail: string): ChainBreak => ({
    line: lineNo,
    seq,
    problem,
    detail,
  });

  /** Checks one line as the next record of the chain; `next` is the line after, if any. */
  function check(bytes: Buffer, next: Buffer | undefined): ChainBreak | undefined {
    const record = parseObject(bytes);
    if (record === undefined) return broken('not_json', undefined, 'the line is not a JSON object');
    const { hash, ...body } = record;
    const seq = typeof body.seq === 'number' ? body.seq : undefined;
    if (seq === undefined || !Number.isSafeInteger(seq) || seq < 1)
      return broken('altered', seq, 'the record has no whole-number seq');
    if (typeof hash !== 'string') return broken('altered', seq, 'the record has no hash');
    let canonical: string;
    try {
      canonical = canonicalJson(body);
    } catch {
      return broken('not_canonical', seq, 'the record holds a number JSON cannot write back');
    }
    if (hashText(canonical) !== hash) return broken('altered', seq, 'the record does not match its hash');
    // The writer's line is the canonical body with `hash` last: any other bytes for the same record
    // (escapes, spacing, order, duplicate keys) would show grep or a SIEM different content.
    if (!Buffer.from(sealedLine(canonical, hash), 'utf8').equals(bytes)) {
      return broken(
        'not_canonical',
        seq,
        'the line is not byte for byte what the writer writes for this record (whitespace, escapes, key order, duplicate keys or a CR)',
      );
    }
    if (first && body.event === 'log.rotated' && typeof body.prev === 'string') {
      head = { seq: seq - 1, hash: body.prev };
    }
    first = false;
    if (seq <= head.seq) return broken('reordered', seq, `seq ${seq} after ${head.seq}`);
    if (seq > head.seq + 1) {
      const nextSeq = next === undefined ? undefined : parseObject(next)?.seq;
      if (typeof nextSeq === 'number' && nextSeq > head.seq && nextSeq < seq) {
        return broken('reordered', seq, `seq ${seq} comes before seq ${nextSeq}`);
      }
      return broken('removed', seq, `records ${head.seq + 1}..${seq - 1} are missing`);
    }
    if (body.prev !== head.hash)
      return broken('broken_link', seq, 'prev is not the hash of the record before');
    if (body.event === 'checkpoint') {
      checkpoints++;
      // A checkpoint under another key (before the key was changed) vouches for nothing here: it
      // is passed over, and the next one under this key vouches for everything before it.
      if (key && body.keyId === keyId) {
        if (typeof body.mac !== 'string') return broken('bad_checkpoint', seq, 'the checkpoint has no MAC');
        if (body.mac !== checkpointMac(key, head))
          return broken('bad_checkpoint', seq, 'the MAC does not verify under the key');
        checkpointsVerified++;
        afterCheckpoint = 0;
        firstUnkeyed = undefined;
      }
    } else {
      records++;
      afterCheckpoint++;
      firstUnkeyed ??= { file, line: lineNo, seq };
    }
    head = { seq, hash };
    return undefined;
  }

  for (const [index, path] of paths.entries()) {
    file = path;
    lineNo = 0;
    const isLast = index === paths.length - 1;
    // One line behind the reader: the line after is at hand to tell a reordering from a removal.
    let pending: FileLine | undefined;
    for await (const line of fileLines(path)) {
      if (pending !== undefined) {
        lineNo++;
        const problem = check(pending.bytes, line.bytes);
        if (problem) return report(problem);
      }
      pending = line;
    }
    if (pending === undefined) continue;
    lineNo++;
    if (pending.terminated || parseObject(pending.bytes) !== undefined) {
      // A whole JSON value is no torn write: a line cut short is never JSON, so check it as a record.
      const problem = check(pending.bytes, undefined);
      if (problem) return report(problem);
      if (!pending.terminated) {
        if (!isLast) return report(broken('torn', head.seq, 'a rotated file must end in a newline'));
        unterminatedRecord = true;
      }
    } else if (!isLast) {
      return report(broken('torn', undefined, 'a rotated file ends in a torn line, with no newline'));
    } else {
      tornTail = true;
    }
  }

  if (key && firstUnkeyed !== undefined && afterCheckpoint > every) {
    // Writers checkpoint at least every `every` records of the chain, so a longer unkeyed run
    // (all of a log rewritten whole, or its tail) is not what a writer leaves, even one that
    // crashed: never pass it as keyed.
    file = firstUnkeyed.file;
    lineNo = firstUnkeyed.line;
    return report(
      broken(
        'no_checkpoint',
        firstUnkeyed.seq,
        `${afterCheckpoint} records from here on and no checkpoint under key ${keyId} after them, where writers checkpoint every ${every}: the log could have been rewritten`,
      ),
    );
  }
  return report();
}

function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
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
