import { hash as digest } from 'node:crypto';
import { type ChainHead, type EncodedEntry, isoTime } from './chain.js';

// The member names sealing adds, as bytes: setting them and writing only the values costs ~0.3 µs
// less a record than writing each member from a template string (1.45 → 1.14 µs, Node 20).
const PREV = Buffer.from(',"prev":"', 'latin1');
const SEQ = Buffer.from(',"seq":', 'latin1');
const TS = Buffer.from(',"ts":"', 'latin1');
const HASH = Buffer.from(',"hash":"', 'latin1');

/** Bytes a sealed record adds to its encoded entry: `{`, prev, seq, ts, hash, `}` and newline. */
const SEAL_BYTES = 256;

/**
 * Records waiting to be sealed and written, as UTF-8 bytes in one buffer outside the JS heap.
 *
 * Why bytes: a waiting record held as strings lives through young collections and is copied and
 * promoted; under load that made GC the largest single cost of an audited request. And writing a
 * batch from strings meant joining them and encoding the join again (3-8 µs a record for a 500 KB
 * batch, bench/audit-sink.mjs). Here each entry is encoded once, at append, and sealing copies
 * bytes (see {@link PendingRecords.sealInto}).
 */
export class PendingRecords {
  #bytes: Buffer;
  #used = 0;
  /** Per record: the ends of its three runs (see {@link EncodedEntry}), and its time. */
  #marks: Float64Array;
  #count = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#bytes = Buffer.allocUnsafeSlow(initialBytes);
    this.#marks = new Float64Array(1024);
  }

  /** How many records wait. */
  get count(): number {
    return this.#count;
  }

  /** The time of the first waiting record (for rotation), or undefined when none waits. */
  get firstAt(): number | undefined {
    return this.#count > 0 ? (this.#marks[3] as number) : undefined;
  }

  push(entry: EncodedEntry, at: number): void {
    const text = entry.text;
    // UTF-16 code units take at most 3 bytes each in UTF-8.
    if (this.#used + 3 * text.length > this.#bytes.length)
      this.#bytes = grow(this.#bytes, this.#used, this.#used + 3 * text.length);
    if ((this.#count + 1) * 4 > this.#marks.length) {
      const marks = new Float64Array(this.#marks.length * 2);
      marks.set(this.#marks);
      this.#marks = marks;
    }
    const used = this.#used;
    const written = this.#bytes.write(text, used);
    const m = this.#count * 4;
    if (written === text.length) {
      // ASCII, as records almost always are: characters and bytes line up.
      this.#marks[m] = used + entry.prevAt;
      this.#marks[m + 1] = used + entry.seqAt;
    } else {
      this.#marks[m] = used + Buffer.byteLength(text.slice(0, entry.prevAt));
      this.#marks[m + 1] = used + Buffer.byteLength(text.slice(0, entry.seqAt));
    }
    this.#marks[m + 2] = used + written;
    this.#marks[m + 3] = at;
    this.#used = used + written;
    this.#count++;
  }

  /** Forgets every record, keeping the buffer for the next batch. */
  clear(): void {
    this.#used = 0;
    this.#count = 0;
  }

  /** An upper bound of the bytes {@link sealInto} writes for all waiting records. */
  sealedBytes(): number {
    return this.#used + this.#count * SEAL_BYTES;
  }

  /**
   * Seals record `index` after `head` into `out` at `pos`, as {@link sealRecord} would: the same
   * line, byte for byte, and a newline. `out` must have room ({@link sealedBytes}).
   *
   * @returns the record's chain position and the position after its newline.
   */
  sealInto(index: number, head: ChainHead, out: Buffer, pos: number): { head: ChainHead; end: number } {
    const bytes = this.#bytes;
    const m = index * 4;
    const start = index === 0 ? 0 : (this.#marks[m - 2] as number);
    const afterPrev = this.#marks[m] as number;
    const afterSeq = this.#marks[m + 1] as number;
    const end = this.#marks[m + 2] as number;
    const seq = head.seq + 1;
    const first = pos;
    out[pos++] = 0x7b; // {
    pos += bytes.copy(out, pos, start, afterPrev);
    out.set(PREV, pos);
    pos += PREV.length;
    pos += out.write(head.hash, pos, 'latin1');
    out[pos++] = 0x22; // "
    pos += bytes.copy(out, pos, afterPrev, afterSeq);
    out.set(SEQ, pos);
    pos += SEQ.length;
    pos += out.write(String(seq), pos, 'latin1');
    pos += bytes.copy(out, pos, afterSeq, end);
    out.set(TS, pos);
    pos += TS.length;
    pos += out.write(isoTime(this.#marks[m + 3] as number), pos, 'latin1');
    out[pos++] = 0x22; // "
    out[pos++] = 0x7d; // }
    const hash = digest('sha256', out.subarray(first, pos), 'hex');
    // The stored line is the hashed text with `hash` added as its last member.
    pos--;
    out.set(HASH, pos);
    pos += HASH.length;
    pos += out.write(hash, pos, 'latin1');
    out[pos++] = 0x22; // "
    out[pos++] = 0x7d; // }
    out[pos++] = 0x0a; // newline
    return { head: { seq, hash }, end: pos };
  }

  /** The time record `index` was appended. */
  at(index: number): number {
    return this.#marks[index * 4 + 3] as number;
  }
}

/** A larger copy of `buffer` keeping its first `used` bytes, with room for at least `need`. */
export function grow(buffer: Buffer, used: number, need: number): Buffer {
  const next = Buffer.allocUnsafeSlow(Math.max(need, buffer.length * 2));
  buffer.copy(next, 0, 0, used);
  return next;
}
