import { createReadStream, statSync, unwatchFile, watchFile } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditRecord } from './record.js';
import { auditLogFiles } from './verify.js';

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

/** Reads the records of a log from `start` bytes on; lines that are not JSON are skipped. */
export async function readRecords(path: string, start = 0): Promise<{ records: AuditRecord[]; end: number }> {
  const size = statSync(path).size;
  const records: AuditRecord[] = [];
  if (size <= start) return { records, end: size };
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8', start, end: size - 1 }),
    crlfDelay: Infinity,
  });
  let end = start;
  for await (const line of lines) {
    end += Buffer.byteLength(line) + 1;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      // A torn last line: read again once it is whole.
      end -= Buffer.byteLength(line) + 1;
    }
  }
  return { records, end: Math.min(end, size) };
}

/** The last `count` records that pass `filter`, reaching back into rotated files when needed. */
export async function tailRecords(path: string, filter: AuditFilter, count: number): Promise<AuditRecord[]> {
  const files = auditLogFiles(path);
  let found: AuditRecord[] = [];
  for (let i = files.length - 1; i >= 0 && found.length < count; i--) {
    const { records } = await readRecords(files[i] as string);
    const matching = records.filter((r) => r.event !== 'checkpoint' && matchesFilter(r, filter));
    found = [...matching, ...found];
  }
  return found.slice(Math.max(0, found.length - count));
}

/** Calls `onRecords` with records appended after `from` bytes, until the returned stop is called. */
export function followRecords(
  path: string,
  from: number,
  onRecords: (records: AuditRecord[]) => void,
  intervalMs = 250,
): () => void {
  let offset = from;
  let inode = statSync(path).ino;
  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      // Another file at the path is the next one after a rotation: read it from its start.
      const ino = statSync(path).ino;
      if (ino !== inode) {
        inode = ino;
        offset = 0;
      }
      const { records, end } = await readRecords(path, offset);
      offset = end;
      if (records.length > 0) onRecords(records);
    } finally {
      busy = false;
    }
  };
  watchFile(path, { interval: intervalMs }, () => void poll());
  return () => unwatchFile(path);
}
