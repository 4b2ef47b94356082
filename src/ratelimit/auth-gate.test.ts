import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { RampartError } from '../core/errors.js';
import { createAuthGate } from './auth-gate.js';
import { createRateLimiter } from './limiter.js';
import { parseRate } from './rate.js';
import { createMemoryStore } from './store.js';

const principal = { subject: 'u' } as unknown as Principal;
const headers = (token: string) => ({
  get: (name: string) => (name === 'authorization' ? `Bearer ${token}` : null),
});
const rejected = () => new RampartError('ERR_AUTH_INVALID_TOKEN');

function gate() {
  const limiter = createRateLimiter(
    { perPrincipal: undefined, perTool: undefined, tools: new Map(), failedAuthPerIp: parseRate('3/min') },
    createMemoryStore(),
  );
  return createAuthGate(limiter);
}
/** Settles a gate call to what the client sees: 'ok', 401 or 429. */
async function outcome(result: () => Principal | Promise<Principal>): Promise<string | number> {
  try {
    await result();
    return 'ok';
  } catch (error) {
    return (error as RampartError).status;
  }
}
/** A credential check that settles a little later: with `value`, or rejected with `error`. */
const later = (value: Principal | Error) =>
  new Promise<Principal>((resolve, reject) =>
    setTimeout(() => (value instanceof Error ? reject(value) : resolve(value)), 5),
  );

describe('the failed-authentication gate', () => {
  it('answers a cached credential at once and charges nothing for it', async () => {
    const pass = gate();
    for (let i = 0; i < 10; i++) expect(pass('192.0.2.1', headers('good'), () => principal)).toBe(principal);
    const bad = () =>
      pass('192.0.2.1', headers('bad'), () => {
        throw rejected();
      });
    expect([await outcome(bad), await outcome(bad), await outcome(bad), await outcome(bad)]).toEqual([
      401, 401, 401, 429,
    ]);
  });

  it('charges concurrent asynchronous guesses first: exactly the budget gets an answer', async () => {
    const pass = gate();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        outcome(() => pass('192.0.2.2', headers(`guess-${i}`), () => later(rejected()))),
      ),
    );
    expect(results.filter((r) => r === 401)).toHaveLength(3);
    expect(results.filter((r) => r === 429)).toHaveLength(5);
  });

  it('lets good credentials through a burst, and counts a fan-out of one credential once', async () => {
    const pass = gate();
    const good = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        outcome(() => pass('192.0.2.3', headers(`user-${i}`), () => later(principal))),
      ),
    );
    expect(good).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const fanOut = await Promise.all(
      Array.from({ length: 6 }, () =>
        outcome(() => pass('192.0.2.4', headers('same-wrong'), () => later(rejected()))),
      ),
    );
    expect(fanOut).toEqual([401, 401, 401, 401, 401, 401]);
    // One attempt charged for all six: two are left.
    const next = () => pass('192.0.2.4', headers('other'), () => later(rejected()));
    expect([await outcome(next), await outcome(next), await outcome(next)]).toEqual([401, 401, 429]);
  });

  it('does not count an outage or a missing credential', async () => {
    const pass = gate();
    for (let i = 0; i < 5; i++) {
      expect(
        await outcome(() =>
          pass('192.0.2.5', headers('x'), () => later(new RampartError('ERR_UNAVAILABLE'))),
        ),
      ).toBe(503);
    }
    expect(await outcome(() => pass('192.0.2.5', headers('x'), () => later(principal)))).toBe('ok');
  });
});
