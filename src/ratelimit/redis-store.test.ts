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

  it('admits exactly N of a concurrent burst at the boundary, whatever the spacing', async () => {
    // Spacings such as 60/7 s are not whole ms: each must be stored with all its digits.
    for (const text of ['7/min', '99/min', '9/min', '700/hour', '7/s', '997/hour']) {
      const rate = parseRate(text)!;
      const key = `burst-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: rate.count + 5 }, (_, i) => (i % 2 ? store : other).take(key, rate, 0)),
      );
      expect(results.filter((r) => r.allowed).length, text).toBe(rate.count);
    }
  });

  it('admits no more than the rate under saturation (stored TATs do not round down)', async () => {
    // Lua's tostring kept 14 digits of a ms timestamp: 7000/s admitted 41% too many.
    const rate = parseRate('7000/s')!;
    const key = `drift-${randomUUID()}`;
    let admitted = 0;
    const started = performance.now();
    while (performance.now() - started < 1500) {
      const results = await Promise.all(Array.from({ length: 400 }, () => store.take(key, rate, 0)));
      admitted += results.filter((r) => r.allowed).length;
    }
    const elapsedMs = performance.now() - started;
    expect(admitted).toBeLessThanOrEqual(rate.count + Math.ceil((elapsedMs / 1000) * rate.count));
  });

  it('refunds a take: the bucket ends as if it had not happened', async () => {
    const rate = parseRate('2/hour')!;
    const key = `refund-${randomUUID()}`;
    const first = await store.take(key, rate, 0);
    await store.take(key, rate, 0);
    const refused = await store.take(key, rate, 0);
    expect(refused.allowed).toBe(false);
    await store.refund(key, rate, refused);
    expect((await other.peek(key, rate, 0)).allowed).toBe(false);
    await store.refund(key, rate, first);
    expect((await other.take(key, rate, 0)).allowed).toBe(true);
    expect((await other.take(key, rate, 0)).allowed).toBe(false);
  });

  it('charges failed-login attempts atomically: 60 concurrent attempts, exactly the budget passes', async () => {
    const limiter = createRateLimiter(
      { perPrincipal: undefined, perTool: undefined, tools: new Map(), failedAuthPerIp: parseRate('3/min') },
      store,
    );
    const ip = '198.51.100.1';
    const settled = await Promise.allSettled(
      Array.from({ length: 60 }, () => Promise.resolve(limiter.chargeAuthAttempt(ip))),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(3);
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
