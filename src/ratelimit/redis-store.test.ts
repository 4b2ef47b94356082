import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { RampartError } from '../core/errors.js';
import { createRateLimiter } from './limiter.js';
import { parseRate } from './rate.js';
import { createRedisStore } from './redis-store.js';

// Against the real Redis of this machine (127.0.0.1:6379; .ci/run starts it when it is down).
const prefix = `rampart-test:${randomUUID()}:`;
const store = createRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix });
const other = createRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: prefix });
afterAll(async () => {
  await store.close?.();
  await other.close?.();
});

describe('Redis rate-limit store', () => {
  it('allows exactly the burst, refuses the next with the wait, across two clients (two instances)', async () => {
    const rate = parseRate('10/min')!;
    const key = `k-${randomUUID()}`;
    for (let i = 0; i < 5; i++) expect(await store.take(key, rate, 0)).toMatchObject({ allowed: true });
    for (let i = 0; i < 5; i++) expect(await other.take(key, rate, 0)).toMatchObject({ allowed: true });
    const refused = await store.take(key, rate, 0);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(5000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(6000);
    expect(await other.peek(key, rate, 0)).toMatchObject({ allowed: false });
  });

  it('is atomic under concurrency: 200 racing takes admit exactly the burst', async () => {
    const rate = parseRate('50/hour')!;
    const key = `race-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? store : other).take(key, rate, 0)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
  });

  it('lets the key expire once it is idle', async () => {
    const rate = parseRate('2/s')!;
    const key = `ttl-${randomUUID()}`;
    await store.take(key, rate, 0);
    await store.take(key, rate, 0);
    expect((await store.take(key, rate, 0)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await store.take(key, rate, 0)).allowed).toBe(true);
  });

  it('refuses requests when Redis cannot answer (fail closed)', async () => {
    const dead = createRedisStore({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 200 });
    const limiter = createRateLimiter(
      {
        perPrincipal: parseRate('100/min'),
        perTool: undefined,
        tools: new Map(),
        failedAuthPerIp: undefined,
      },
      dead,
    );
    const principal = {
      subject: 's',
      issuer: 'i',
      authMethod: 'jwt' as const,
      scopes: new Set<string>(),
      roles: new Set<string>(),
    };
    const error = await Promise.resolve(limiter.takePrincipal(principal)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RampartError);
    expect((error as RampartError).code).toBe('ERR_UNAVAILABLE');
    await dead.close?.();
  });
});
