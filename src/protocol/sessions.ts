import { randomBytes } from 'node:crypto';

/** A legacy (2025-era) session: the negotiated version, bound to the principal that opened it. */
export interface LegacySession {
  readonly id: string;
  readonly principalKey: string;
  readonly version: string;
  expiresAt: number;
}

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions {
  ttlSeconds: number;
  maxSessions: number;
  /** Sessions one principal may hold before its oldest is dropped. Default 64. */
  maxPerPrincipal?: number;
  now?: () => number;
}

/**
 * Legacy sessions, in memory. A session id never authenticates: every request is authenticated on
 * its own, and a session presented by another principal is "not found" (404), exactly as an
 * unknown one, so ids cannot be probed. Ids carry 256 random bits.
 */
export function createSessionStore(options: SessionStoreOptions) {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlSeconds * 1000;
  const perPrincipal = options.maxPerPrincipal ?? 64;
  // Map order is insertion order; touching re-inserts, so the first entry is the least recently used.
  const sessions = new Map<string, LegacySession>();

  function evictFor(principalKey: string): void {
    let count = 0;
    let oldest: string | undefined;
    for (const s of sessions.values()) {
      if (s.principalKey !== principalKey) continue;
      count++;
      oldest ??= s.id;
    }
    if (count >= perPrincipal && oldest) sessions.delete(oldest);
    while (sessions.size >= options.maxSessions) {
      const first = sessions.keys().next().value;
      if (first === undefined) break;
      sessions.delete(first);
    }
  }

  return {
    create(principalKey: string, version: string): LegacySession {
      evictFor(principalKey);
      const session: LegacySession = {
        id: randomBytes(32).toString('base64url'),
        principalKey,
        version,
        expiresAt: now() + ttlMs,
      };
      sessions.set(session.id, session);
      return session;
    },
    /** The session, if it exists, is live and belongs to `principalKey`; touching extends it. */
    get(id: string, principalKey: string): LegacySession | undefined {
      const session = sessions.get(id);
      if (!session) return undefined;
      if (session.expiresAt <= now()) {
        sessions.delete(id);
        return undefined;
      }
      if (session.principalKey !== principalKey) return undefined;
      session.expiresAt = now() + ttlMs;
      sessions.delete(id);
      sessions.set(id, session);
      return session;
    },
    delete(id: string, principalKey: string): boolean {
      const session = sessions.get(id);
      if (!session || session.principalKey !== principalKey) return false;
      return sessions.delete(id);
    },
    get size(): number {
      return sessions.size;
    },
  };
}

/** The store returned by {@link createSessionStore}. */
export type SessionStore = ReturnType<typeof createSessionStore>;
