import { createHash, createHmac, hash as digest } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AuditEntry, AuditPrincipal } from './record.js';

/** The `prev` of the first record of a log. */
export const GENESIS = '0'.repeat(64);

/** The chain position a writer continues from. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** A sealed record and the line that stores it. */
export interface Sealed {
  readonly seq: number;
  readonly hash: string;
  /** The stored line (no newline): the canonical body, then `hash` last. */
  readonly line: string;
}

// The body's fields in canonical (sorted) order. Building the body in this order lets one
// JSON.stringify produce its canonical JSON: 3-4x cheaper than the generic canonicalJson, which
// the verifier uses to check it. A test holds this list to AUDIT_FIELDS.
export const BODY_FIELDS = [
  'argsHash',
  'detail',
  'durationMs',
  'event',
  'ip',
  'keyId',
  'mac',
  'method',
  'outcome',
  'prev',
  'principal',
  'protocol',
  'reason',
  'requestId',
  'rpcId',
  'seq',
  'tool',
  'ts',
] as const;

/**
 * Seals an entry into the chain: adds `seq`, `ts` and `prev`, and `hash` over the canonical JSON of
 * all of them. The stored line is that canonical JSON with `hash` appended; JSON escaping keeps any
 * newline or quote inside a field from ever starting another record.
 */
export function sealRecord(entry: AuditEntry | AuditRecordBody, head: ChainHead, at: number): Sealed {
  const e = entry as AuditRecordBody;
  const seq = head.seq + 1;
  // One literal with the fields in canonical order (undefined ones are left out by stringify): a
  // fixed shape keeps JSON.stringify on its fast path. Keep in step with BODY_FIELDS.
  const text = JSON.stringify({
    argsHash: e.argsHash,
    detail: e.detail === undefined ? undefined : JSON.parse(canonicalJson(e.detail)),
    durationMs: e.durationMs,
    event: e.event,
    ip: e.ip,
    keyId: e.keyId,
    mac: e.mac,
    method: e.method,
    outcome: e.outcome,
    prev: head.hash,
    principal: e.principal === undefined ? undefined : sortedPrincipal(e.principal),
    protocol: e.protocol,
    reason: e.reason,
    requestId: e.requestId,
    rpcId: e.rpcId,
    seq,
    tool: e.tool,
    ts: new Date(at).toISOString(),
  });
  // One-shot hash (Node >= 20.12): no Hash object per record.
  const hash = oneShotSha256(text);
  return { seq, hash, line: `${text.slice(0, -1)},"hash":"${hash}"}` };
}

function sortedPrincipal(p: AuditPrincipal): AuditPrincipal {
  return { auth: p.auth, client: p.client, iss: p.iss, keyId: p.keyId, sub: p.sub };
}

function oneShotSha256(text: string): string {
  return digest('sha256', text);
}

/** Fields of a checkpoint before sealing. */
export type AuditRecordBody = AuditEntry & { keyId?: string; mac?: string };

/** The hash a record must carry: over every field but `hash`. */
export function hashBody(body: object): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
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
