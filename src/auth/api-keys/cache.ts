/**
 * A small map whose entries expire: at `expiresAt` (epoch ms, exclusive) an entry is gone. When
 * full, the oldest insertion is evicted (a Map iterates in insertion order), which keeps memory
 * bounded whatever callers do. No timers: expired entries are dropped when read or evicted.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #maxEntries: number;

  /** @param maxEntries - most entries kept (at least 1) */
  constructor(maxEntries: number) {
    this.#maxEntries = Math.max(1, Math.floor(maxEntries));
  }

  /** The value, or `undefined` when absent or expired at `now`. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` until `expiresAt`; does nothing when that is not after `now`. */
  set(key: string, value: V, expiresAt: number, now: number): void {
    if (expiresAt <= now) return;
    this.#entries.delete(key); // re-insert at the young end
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt });
  }

  /** Entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear();
  }
}
