import { afterEach, describe, expect, it, vi } from 'vitest';
import { invalidToken } from '../auth/jwt/rejection.js';
import type { Principal } from '../auth/principal.js';
import { RampartError } from '../core/errors.js';
import { type AuthAttempt, createRateLimiter, isCredentialRejection, type RateLimits } from './limiter.js';
import { parseRate } from './rate.js';
import { createMemoryStore } from './store.js';

function principal(issuer: string, subject: string): Principal {
  return Object.freeze({
    subject,
    issuer,
    authMethod: 'jwt' as const,
    scopes: new Set<string>(),
    roles: new Set<string>(),
  });
}

function limits(overrides: Partial<RateLimits>): RateLimits {
  return {
    perPrincipal: undefined,
    perTool: undefined,
    tools: new Map(),
    failedAuthPerIp: undefined,
    ...overrides,
  };
}

function refusal(run: () => unknown): RampartError | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof RampartError) return error;
    throw error;
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('rate limiter', () => {
  it('follows a monotonic clock: the wall clock stepping back locks no one out', () => {
    const wall = vi.spyOn(Date, 'now').mockReturnValue(1_795_930_000_000);
    const limiter = createRateLimiter(limits({ perPrincipal: parseRate('100/min') }), createMemoryStore());
    const alice = principal('rampart', 'alice');
    limiter.takePrincipal(alice);
    // NTP steps the wall clock back an hour: a wall-clock bucket then said Retry-After 3542.
    wall.mockReturnValue(1_795_930_000_000 - 3_600_000);
    expect(refusal(() => limiter.takePrincipal(alice))).toBeUndefined();
  });

  it('keeps principals apart whose issuer, subject and tool joined with | look alike', () => {
    const one = parseRate('1/hour');
    const limiter = createRateLimiter(limits({ perPrincipal: one, perTool: one }), createMemoryStore());
    // `a|b` + `c` and `a` + `b|c` were both the key `p|a|b|c`.
    limiter.takePrincipal(principal('https://idp.example|auth0', '123'));
    expect(
      refusal(() => limiter.takePrincipal(principal('https://idp.example', 'auth0|123'))),
    ).toBeUndefined();
    expect(refusal(() => limiter.takePrincipal(principal('https://idp.example|auth0', '123')))?.code).toBe(
      'ERR_RATE_LIMITED',
    );
    // Subject `s` calling tool `x|y`, and subject `s|x` calling tool `y`: both were `t|i|s|x|y`.
    limiter.takeTool(principal('i', 's'), 'x|y');
    expect(refusal(() => limiter.takeTool(principal('i', 's|x'), 'y'))).toBeUndefined();
    expect(refusal(() => limiter.takeTool(principal('i', 's'), 'x|y'))?.code).toBe('ERR_RATE_LIMITED');
  });

  it('charges failed logins per IPv6 /64, and IPv4 per address', () => {
    const limiter = createRateLimiter(limits({ failedAuthPerIp: parseRate('3/min') }), createMemoryStore());
    for (let host = 1; host <= 3; host++) limiter.chargeAuthAttempt(`2001:db8:1:2::${host}`);
    expect(refusal(() => limiter.chargeAuthAttempt('2001:db8:1:2:ffff::9'))?.code).toBe('ERR_RATE_LIMITED');
    expect(refusal(() => limiter.chargeAuthAttempt('2001:db8:1:3::1'))).toBeUndefined();
    for (let i = 0; i < 3; i++) limiter.chargeAuthAttempt('198.51.100.1');
    expect(refusal(() => limiter.chargeAuthAttempt('198.51.100.1'))?.code).toBe('ERR_RATE_LIMITED');
    expect(refusal(() => limiter.chargeAuthAttempt('198.51.100.2'))).toBeUndefined();
  });

  it('charges attempts before authentication and gives back the refunded ones: never over-admits', () => {
    const limiter = createRateLimiter(limits({ failedAuthPerIp: parseRate('3/min') }), createMemoryStore());
    // Ten concurrent attempts: each is charged before any is decided, so only three go through.
    const attempts: AuthAttempt[] = [];
    let refused = 0;
    for (let i = 0; i < 10; i++) {
      const error = refusal(() => attempts.push(limiter.chargeAuthAttempt('203.0.113.7') as AuthAttempt));
      if (error) refused++;
    }
    expect([attempts.length, refused]).toEqual([3, 7]);
    // Two of them turn out good: their charges come back, the failed one stays.
    limiter.refundAuthAttempt('203.0.113.7', attempts[0] as AuthAttempt);
    limiter.refundAuthAttempt('203.0.113.7', attempts[1] as AuthAttempt);
    expect(refusal(() => limiter.chargeAuthAttempt('203.0.113.7'))).toBeUndefined();
    expect(refusal(() => limiter.chargeAuthAttempt('203.0.113.7'))).toBeUndefined();
    expect(refusal(() => limiter.chargeAuthAttempt('203.0.113.7'))?.code).toBe('ERR_RATE_LIMITED');
  });

  it('keeps principals’ buckets when failed logins flood the client store', () => {
    const clients = createMemoryStore({ maxKeys: 1000 });
    const principals = createMemoryStore({ maxKeys: 1000 });
    const limiter = createRateLimiter(
      limits({ failedAuthPerIp: parseRate('30/min'), tools: new Map([['nuke', parseRate('2/hour')!]]) }),
      { clients, principals },
    );
    const carol = principal('rampart', 'carol');
    limiter.takeTool(carol, 'nuke');
    limiter.takeTool(carol, 'nuke');
    expect(refusal(() => limiter.takeTool(carol, 'nuke'))?.code).toBe('ERR_RATE_LIMITED');
    // Failed logins from 5,000 /64s: the client store fills up and shares one overflow bucket.
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      if (refusal(() => limiter.chargeAuthAttempt(`2001:db8:${i.toString(16)}::1`))) refused++;
    }
    expect(refused).toBe(5000 - 1000 - 30);
    expect(refusal(() => limiter.takeTool(carol, 'nuke'))?.code).toBe('ERR_RATE_LIMITED');
  });

  it('counts only rejected credentials as failed logins, not outages', () => {
    expect(isCredentialRejection(new RampartError('ERR_AUTH_INVALID_TOKEN'))).toBe(true);
    expect(isCredentialRejection(invalidToken('bad_signature'))).toBe(true);
    expect(isCredentialRejection(invalidToken('expired'))).toBe(true);
    expect(isCredentialRejection(invalidToken('jwks_unavailable', 'timeout'))).toBe(false);
    expect(isCredentialRejection(new RampartError('ERR_UNAVAILABLE', { cause: new Error('db') }))).toBe(
      false,
    );
    expect(isCredentialRejection(new RampartError('ERR_AUTH_REQUIRED'))).toBe(false);
    expect(isCredentialRejection(new Error('boom'))).toBe(false);
  });
});
