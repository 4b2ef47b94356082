import { statSync, unwatchFile, watchFile } from 'node:fs';
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
      if (current !== inode) {
        // A rotation renamed the file being read (renaming keeps its inode): finish it first.
        const rotated = auditLogFiles(path).slice(0, -1);
        const at = rotated.findIndex((file) => inodeOf(file) === inode);
        if (at >= 0) {
          for (let i = at; i < rotated.length; i++)
            deliver((await readRecords(rotated[i] as string, i === at ? offset : 0)).records);
        }
        // Between the rename and the new file there is no file at the path: read it next time.
        inode = current;
        offset = 0;
        if (current === undefined) return;
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
