import { statSync, unwatchFile, watchFile } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { AuditRecord } from './record.js';
import { auditLogFiles, fileLines } from './verify.js';

/** Which records `tail` shows. */
export interface AuditFilter {
  readonly principal?: string | undefined;
  readonly tool?: string | undefined;
  readonly outcome?: string | undefined;
  readonly event?: string | undefined;
}

/** Whether a record passes a filter (`principal` matches the subject, or `issuer|subject`). */
export function matchesFilter(record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.outcome && record.outcome !== filter.outcome) return false;
  if (filter.tool && record.tool !== filter.tool) return false;
  if (filter.event && record.event !== filter.event) return false;
  if (filter.principal) {
    const p = record.principal;
    if (!p || (p.sub !== filter.principal && `${p.iss}|${p.sub}` !== filter.principal)) return false;
  }
  return true;
}

/**
 * Reads the records of a log from `start` bytes on: only whole lines, ended by a newline (a last
 * line without one is being written, or torn: `end` stops before it, to read it again once whole).
 * Lines that are not JSON objects are skipped.
 */
export async function readRecords(path: string, start = 0): Promise<{ records: AuditRecord[]; end: number }> {
  const size = statSync(path).size;
  const records: AuditRecord[] = [];
  let end = Math.min(start, size);
  for await (const line of fileLines(path, start, size)) {
    if (!line.terminated) break;
    end = line.end;
    try {
      const value: unknown = JSON.parse(line.bytes.toString('utf8'));
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        records.push(value as AuditRecord);
    } catch {
      // Not a record: `rampart audit verify` names it.
    }
  }
  return { records, end };
}

/** Options of {@link tailAuditLog}. */
export interface TailOptions {
  /**
   * Stop after reading this many bytes, over all files together (default 64 MiB), so that a filter
   * matching little cannot make one call read gigabytes of rotated files. The result says when.
   */
  readonly maxScanBytes?: number | undefined;
  /** Bytes per read (default 64 KiB). Internal: tests make it tiny to cross every boundary. */
  readonly chunkBytes?: number | undefined;
  /**
   * Lines longer than this are skipped rather than buffered (default 1 MiB; writers refuse to
   * continue a log whose last line is over 64 KiB, and records are far smaller).
   */
  readonly maxLineBytes?: number | undefined;
}

/** What {@link tailAuditLog} found. */
export interface TailResult {
  /** The matching records, oldest first, newest last; at most `count`. */
  readonly records: AuditRecord[];
  /**
   * True when the scan stopped at `maxScanBytes` with fewer than `count` records found and older
   * bytes left unread: older matching records may exist.
   */
  readonly truncated: boolean;
  /** How many bytes were read. */
  readonly bytesScanned: number;
}

/** Default of {@link TailOptions.maxScanBytes}. */
export const TAIL_MAX_SCAN_BYTES = 64 * 1024 * 1024;
const TAIL_CHUNK_BYTES = 64 * 1024;
const TAIL_MAX_LINE_BYTES = 1024 * 1024;

/**
 * The last `count` records that pass `filter` (checkpoints never do), reaching back into rotated
 * files when needed. Reads each file backwards from its end in chunks and stops once it has
 * `count` records, or once it has read `maxScanBytes` (then `truncated`): memory and work stay
 * bounded whatever the size of the log. Only whole lines count: a last line without a newline is
 * being written, or torn, and is skipped, as {@link readRecords} does. Lines that are not JSON
 * objects are skipped.
 */
export async function tailAuditLog(
  path: string,
  filter: AuditFilter,
  count: number,
  options: TailOptions = {},
): Promise<TailResult> {
  const scan: TailScan = {
    filter,
    count,
    found: [],
    bytesScanned: 0,
    maxScanBytes: options.maxScanBytes ?? TAIL_MAX_SCAN_BYTES,
    chunkBytes: Math.max(1, Math.floor(options.chunkBytes ?? TAIL_CHUNK_BYTES)),
    maxLineBytes: options.maxLineBytes ?? TAIL_MAX_LINE_BYTES,
    truncated: false,
  };
  if (count > 0) {
    const files = auditLogFiles(path);
    for (let i = files.length - 1; i >= 0 && scan.found.length < count && !scan.truncated; i--)
      await tailFile(files[i] as string, scan);
  }
  // Collected newest first. `truncated` is only set while records are still wanted.
  return { records: scan.found.reverse(), truncated: scan.truncated, bytesScanned: scan.bytesScanned };
}

interface TailScan {
  readonly filter: AuditFilter;
  readonly count: number;
  /** Newest first. */
  readonly found: AuditRecord[];
  bytesScanned: number;
  readonly maxScanBytes: number;
  readonly chunkBytes: number;
  readonly maxLineBytes: number;
  truncated: boolean;
}

/** Reads one file backwards from its end, adding its matching records to `scan.found`. */
async function tailFile(path: string, scan: TailScan): Promise<void> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    // Renamed away or deleted since the directory was listed (rotation, retention).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    let pos = (await file.stat()).size;
    // The start of the line being put together, after the bytes still to read (in file order).
    let parts: Buffer[] = [];
    let partsLength = 0;
    // Longer than maxLineBytes: its bytes are dropped, and so is the line once its start is found.
    let oversized = false;
    // Whether a newline ends that line: not for the file's last bytes (written now, or torn).
    let terminated = false;
    const take = (bytes: Buffer): boolean => {
      if (terminated && !oversized) {
        const line = parts.length === 0 ? bytes : Buffer.concat([bytes, ...parts]);
        const record = parseRecord(line);
        if (record && record.event !== 'checkpoint' && matchesFilter(record, scan.filter)) {
          scan.found.push(record);
          if (scan.found.length >= scan.count) return true;
        }
      }
      parts = [];
      partsLength = 0;
      oversized = false;
      terminated = true;
      return false;
    };
    while (pos > 0) {
      const room = scan.maxScanBytes - scan.bytesScanned;
      if (room <= 0) {
        scan.truncated = true;
        return;
      }
      const length = Math.min(scan.chunkBytes, pos, room);
      // A fresh buffer each time: `parts` may keep slices of it.
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(chunk, 0, length, pos - length);
      if (bytesRead !== length) throw new Error(`audit log ${path} shrank while it was read; try again`);
      pos -= length;
      scan.bytesScanned += length;
      let end = length;
      while (end > 0) {
        const nl = chunk.lastIndexOf(0x0a, end - 1);
        if (nl < 0) break;
        if (take(chunk.subarray(nl + 1, end))) return;
        end = nl;
      }
      if (end > 0 && !oversized) {
        partsLength += end;
        if (partsLength > scan.maxLineBytes) {
          oversized = true;
          parts = [];
        } else parts.unshift(chunk.subarray(0, end));
      }
    }
    // The file's first line: its start is the file's start.
    take(Buffer.alloc(0));
  } finally {
    await file.close();
  }
}

/** A line's record, or undefined when it is not a JSON object. */
function parseRecord(line: Buffer): AuditRecord | undefined {
  try {
    const value: unknown = JSON.parse(line.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as AuditRecord;
  } catch {
    // Not a record: `rampart audit verify` names it.
  }
  return undefined;
}

/**
 * Calls `onRecords` with records appended after `from` bytes, until the returned stop is called.
 * Across a rotation it first reads the rest of the renamed file (and of any rotated after it), then
 * the new file from its start, so no record is skipped.
 */
export function followRecords(
  path: string,
  from: number,
  onRecords: (records: AuditRecord[]) => void,
  intervalMs = 250,
): () => void {
  let offset = from;
  let inode = inodeOf(path);
  let busy = false;
  const deliver = (records: AuditRecord[]) => {
    if (records.length > 0) onRecords(records);
  };
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const current = inodeOf(path);
      // Between a rotation's rename and its new file there is no file at the path: look again next
      // time, still knowing which file was being read. (Forgetting it here lost the records of the
      // files rotated before the next look, which a slower rotation made likely.)
      if (current === undefined) return;
      if (current !== inode) {
        // A rotation renamed the file being read (renaming keeps its inode): finish it first.
        const rotated = auditLogFiles(path).slice(0, -1);
        const at = rotated.findIndex((file) => inodeOf(file) === inode);
        if (at >= 0) {
          for (let i = at; i < rotated.length; i++)
            deliver((await readRecords(rotated[i] as string, i === at ? offset : 0)).records);
        }
        inode = current;
        offset = 0;
      }
      const { records, end } = await readRecords(path, offset);
      offset = end;
      deliver(records);
    } catch {
      // The file moved while it was read: the next poll carries on.
    } finally {
      busy = false;
    }
  };
  watchFile(path, { interval: intervalMs }, () => void poll());
  return () => unwatchFile(path);
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}
