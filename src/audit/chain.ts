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

// The body's fields in canonical (sorted) order. A test holds this list to AUDIT_FIELDS, and
// encodeEntry() writes them in this order.
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
 * An entry's canonical JSON, written before it is sealed, in the three runs that fall around the
 * chain fields `prev`, `seq` and `ts` (which only sealing knows).
 *
 * Why by hand: `JSON.stringify` of a whole ~500-byte record costs 2-3 µs on Node 20, as much as the
 * rest of sealing; writing each field, and stringifying only the strings that need escaping,
 * costs a fraction of that (bench/audit-sink.mjs). And a buffered sink then holds three strings
 * per waiting record instead of the entry's objects, which would live through young collections.
 * A property test checks every line against the generic `canonicalJson` the verifier uses.
 */
export interface EncodedEntry {
  /** The three runs in one string: `argsHash` … `outcome`, then `principal` … `rpcId`, then `tool`. */
  readonly text: string;
  /** Where the second run starts (each of its fields has a leading comma). */
  readonly prevAt: number;
  /** Where the third run starts: `tool`, with a leading comma, or nothing. */
  readonly seqAt: number;
}

/** Encodes an entry for {@link sealRecord}. */
export function encodeEntry(entry: AuditEntry | AuditRecordBody): EncodedEntry {
  const e = entry as AuditRecordBody;
  // Fields before `event` end in a comma; `event` and `outcome` are always there.
  let t = e.argsHash === undefined ? '' : `"argsHash":${JSON.stringify(e.argsHash)},`;
  if (e.detail !== undefined) t += `"detail":${canonicalJson(e.detail)},`;
  if (e.durationMs !== undefined) t += `"durationMs":${durationJson(e.durationMs)},`;
  t += `"event":${JSON.stringify(e.event)}`;
  if (e.ip !== undefined) t += `,"ip":${JSON.stringify(e.ip)}`;
  if (e.keyId !== undefined) t += `,"keyId":${JSON.stringify(e.keyId)}`;
  if (e.mac !== undefined) t += `,"mac":${JSON.stringify(e.mac)}`;
  if (e.method !== undefined) t += `,"method":${JSON.stringify(e.method)}`;
  t += `,"outcome":${JSON.stringify(e.outcome)}`;
  const prevAt = t.length;
  if (e.principal !== undefined) t += `,"principal":${encodePrincipal(e.principal)}`;
  if (e.protocol !== undefined) t += `,"protocol":${JSON.stringify(e.protocol)}`;
  if (e.reason !== undefined) t += `,"reason":${JSON.stringify(e.reason)}`;
  if (e.requestId !== undefined) t += `,"requestId":${JSON.stringify(e.requestId)}`;
  if (e.rpcId !== undefined) t += `,"rpcId":${rpcIdJson(e.rpcId)}`;
  const seqAt = t.length;
  if (e.tool !== undefined) t += `,"tool":${JSON.stringify(e.tool)}`;
  return { text: t, prevAt, seqAt };
}

/**
 * Seals an entry into the chain: adds `seq`, `ts` and `prev`, and `hash` over the canonical JSON of
 * all of them. The stored line is that canonical JSON with `hash` appended; JSON escaping keeps any
 * newline or quote inside a field from ever starting another record.
 */
export function sealRecord(
  entry: AuditEntry | AuditRecordBody | EncodedEntry,
  head: ChainHead,
  at: number,
): Sealed {
  const e = 'prevAt' in entry ? entry : encodeEntry(entry);
  const seq = head.seq + 1;
  const t = e.text;
  const text = `{${t.slice(0, e.prevAt)},"prev":"${head.hash}"${t.slice(e.prevAt, e.seqAt)},"seq":${seq}${t.slice(e.seqAt)},"ts":"${isoTime(at)}"}`;
  const hash = hashText(text);
  return { seq, hash, line: sealedLine(text, hash) };
}

/** The hash of a record's hashed text (its canonical JSON without `hash`). */
export function hashText(text: string): string {
  // One-shot hash (Node >= 20.12): no Hash object per record.
  return digest('sha256', text);
}

/** The stored line of a record: its hashed text with `hash` added as the last member. */
export function sealedLine(text: string, hash: string): string {
  return `${text.slice(0, -1)},"hash":"${hash}"}`;
}

const encodedPrincipals = new WeakMap<AuditPrincipal, string>();

/** A principal's canonical JSON; kept for frozen ones, which are shared by many records. */
function encodePrincipal(p: AuditPrincipal): string {
  let json = encodedPrincipals.get(p);
  if (json === undefined) {
    json = principalJson(p);
    if (Object.isFrozen(p)) encodedPrincipals.set(p, json);
  }
  return json;
}

function principalJson(p: AuditPrincipal): string {
  // Keys in sorted order: auth, client, iss, keyId, sub.
  let out = `{"auth":${JSON.stringify(p.auth)}`;
  if (p.client !== undefined) out += `,"client":${JSON.stringify(p.client)}`;
  out += `,"iss":${JSON.stringify(p.iss)}`;
  if (p.keyId !== undefined) out += `,"keyId":${JSON.stringify(p.keyId)}`;
  return `${out},"sub":${JSON.stringify(p.sub)}}`;
}

function rpcIdJson(id: string | number | null): string {
  return typeof id === 'number' ? number(id) : JSON.stringify(id);
}

/** A number as JSON.stringify writes it; a non-finite one (never expected) as null, as it does. */
function number(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

const hundredths: string[] = [];

/**
 * A duration in ms as JSON writes it, kept for the hundredths up to 1 s that durations are: printing
 * a fraction costs ~0.16 µs on Node 20 once V8's cache of recent numbers misses (5,000 distinct
 * durations), a lookup ~0.01.
 */
export function durationJson(ms: number): string {
  const c = Math.round(ms * 100);
  if (c >= 0 && c < 100_000 && c / 100 === ms) {
    let text = hundredths[c];
    if (text === undefined) {
      text = String(ms);
      hundredths[c] = text;
    }
    return text;
  }
  return number(ms);
}

let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * `new Date(at).toISOString()`, with the part up to the second cached: formatting a Date costs
 * ~1.3 µs on Node 20, and consecutive records almost always share their second.
 */
export function isoTime(at: number): string {
  const whole = Math.floor(at);
  const second = Math.floor(whole / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    cachedPrefix = iso.slice(0, -4); // up to and including the '.' before milliseconds
    cachedSecond = second;
  }
  const ms = whole - second * 1000;
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** Fields of a checkpoint before sealing. */
export type AuditRecordBody = AuditEntry & { keyId?: string; mac?: string };

/** The hash a record must carry: over every field but `hash`. */
export function hashBody(body: object): string {
  return hashText(canonicalJson(body));
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
