import { describe, expect, it } from 'vitest';
import { type ApiKeyState, type ApiKeyTimes, canAuthenticate, decideKeyState, keyDeadline } from './state.js';

const key = (over: Partial<ApiKeyTimes>): ApiKeyTimes => ({
  expiresAt: null,
  revokedAt: null,
  graceUntil: null,
  ...over,
});

describe('decideKeyState', () => {
  it.each<[string, Partial<ApiKeyTimes>, number, ApiKeyState]>([
    ['plain key', {}, 1000, 'active'],
    ['before expiry', { expiresAt: 1001 }, 1000, 'active'],
    ['at expiry (exclusive)', { expiresAt: 1000 }, 1000, 'expired'],
    ['after expiry', { expiresAt: 999 }, 1000, 'expired'],
    ['revoked', { revokedAt: 500 }, 1000, 'revoked'],
    ['revoked in the future still revoked', { revokedAt: 5000 }, 1000, 'revoked'],
    ['revoked beats expired', { revokedAt: 500, expiresAt: 600 }, 1000, 'revoked'],
    ['inside grace', { graceUntil: 1001 }, 1000, 'rotating'],
    ['at grace end (exclusive)', { graceUntil: 1000 }, 1000, 'rotated'],
    ['expiry beats grace', { graceUntil: 2000, expiresAt: 900 }, 1000, 'expired'],
    ['revoked during grace', { graceUntil: 2000, revokedAt: 900 }, 1000, 'revoked'],
  ])('%s', (_, times, now, expected) => {
    expect(decideKeyState(key(times), now)).toBe(expected);
  });

  it('only active and rotating keys authenticate', () => {
    const all: ApiKeyState[] = ['active', 'rotating', 'rotated', 'revoked', 'expired'];
    expect(all.filter(canAuthenticate)).toEqual(['active', 'rotating']);
  });
});

describe('keyDeadline', () => {
  it.each<[Partial<ApiKeyTimes>, number | undefined]>([
    [{}, undefined],
    [{ expiresAt: 5 }, 5],
    [{ graceUntil: 7 }, 7],
    [{ expiresAt: 5, graceUntil: 7 }, 5],
    [{ expiresAt: 9, graceUntil: 7 }, 7],
  ])('%o -> %s', (times, expected) => {
    expect(keyDeadline(key(times))).toBe(expected);
  });
});
