import { describe, expect, it } from 'vitest';
import { createSessionStore } from './sessions.js';

describe('createSessionStore', () => {
  it('binds a session to its principal and expires it', () => {
    let now = 0;
    const store = createSessionStore({ ttlSeconds: 10, maxSessions: 10, now: () => now });
    const s = store.create('iss|alice', '2025-11-25');
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.get(s.id, 'iss|alice')?.version).toBe('2025-11-25');
    expect(store.get(s.id, 'iss|mallory')).toBeUndefined();
    expect(store.delete(s.id, 'iss|mallory')).toBe(false);
    now = 10_001;
    expect(store.get(s.id, 'iss|alice')).toBeUndefined();
  });

  it('bounds sessions globally and per principal', () => {
    const store = createSessionStore({ ttlSeconds: 60, maxSessions: 5, maxPerPrincipal: 2 });
    const a1 = store.create('a', 'v');
    store.create('a', 'v');
    store.create('a', 'v');
    expect(store.get(a1.id, 'a')).toBeUndefined();
    for (let i = 0; i < 10; i++) store.create(`p${i}`, 'v');
    expect(store.size).toBeLessThanOrEqual(5);
  });
});
