import type { Principal } from '../principal.js';

/**
 * A bounded cache of verified tokens. Verifying a JWT costs about 100 µs (signature and claims);
 * a cache hit costs a Map lookup, which keeps token verification off the hot path for clients
 * that reuse their access token. An entry never outlives the token's `exp`, nor `maxTtlMs`, which
 * bounds how long a token revoked at its issuer keeps working here.
 */
export class VerifiedTokenCache {
  // Map iteration order is insertion order: the first key is the oldest entry, evicted first.
  readonly #entries = new Map<string, { principal: Principal; until: number }>();
  readonly #maxEntries: number;
  readonly #maxTtlMs: number;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number, maxTtlMs: number) {
    this.#maxEntries = maxEntries;
    this.#maxTtlMs = maxTtlMs;
  }

  get(token: string, now: number): Principal | undefined {
    const entry = this.#entries.get(token);
    if (entry && entry.until > now) {
      this.hits++;
      return entry.principal;
    }
    if (entry) this.#entries.delete(token);
    this.misses++;
    return undefined;
  }

  set(token: string, principal: Principal, now: number): void {
    if (this.#maxEntries === 0 || this.#maxTtlMs === 0) return;
    const until = Math.min(principal.expiresAt ?? now, now + this.#maxTtlMs);
    if (until <= now) return;
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(token, { principal, until });
  }

  get size(): number {
    return this.#entries.size;
  }
}
