import { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AuditEntry, AuditRecord } from './record.js';

/** The `prev` of the first record of a log. */
export const GENESIS = '0'.repeat(64);

/** The chain position a writer continues from. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Seals an entry into the chain: adds `seq`, `ts` and `prev`, and `hash` over the canonical JSON of
 * all of them. The stored line is that canonical JSON with `hash` added; JSON escaping keeps any
 * newline or quote inside a field from ever starting another record.
 */
export function sealRecord(entry: AuditEntry | AuditRecordBody, head: ChainHead, at: number): AuditRecord {
  const body = { ...entry, seq: head.seq + 1, ts: new Date(at).toISOString(), prev: head.hash };
  return { ...body, hash: hashBody(body) } as AuditRecord;
}

/** Fields of a checkpoint before sealing. */
export type AuditRecordBody = AuditEntry & { keyId?: string; mac?: string };

/** The hash a record must carry: over every field but `hash`. */
export function hashBody(body: object): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** The line stored for a record (no trailing newline). */
export function recordLine(record: AuditRecord): string {
  return canonicalJson(record);
}

/** The checkpoint entry for a chain head: an HMAC of the head's hash under the audit key. */
export function checkpointEntry(head: ChainHead, key: Buffer): AuditRecordBody {
  return {
    event: 'checkpoint',
    outcome: 'allow',
    keyId: keyIdOf(key),
    mac: checkpointMac(key, head),
  };
}

export function checkpointMac(key: Buffer, head: ChainHead): string {
  return createHmac('sha256', key).update(`${head.seq}:${head.hash}`).digest('hex');
}

/** A short, public name for a key: the first 16 hex digits of its SHA-256. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}
