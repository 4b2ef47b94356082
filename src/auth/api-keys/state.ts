/**
 * Where a key is in its life: `active` authenticates; `rotating` is an old key inside its grace
 * period after a rotation and still authenticates; the rest never authenticate again.
 */
export type ApiKeyState = 'active' | 'rotating' | 'rotated' | 'revoked' | 'expired';

/** The columns {@link decideKeyState} reads, in epoch milliseconds. */
export interface ApiKeyTimes {
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly graceUntil: number | null;
}

/**
 * Decides a key's state at `now` (epoch ms). Pure. Each deadline is exclusive: a key that expires
 * at `t` no longer works at `t`. Revocation wins over everything, then expiry (a rotation never
 * extends a key's life), then the end of a rotation's grace period.
 */
export function decideKeyState(key: ApiKeyTimes, now: number): ApiKeyState {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  if (key.graceUntil !== null) return key.graceUntil > now ? 'rotating' : 'rotated';
  return 'active';
}

/** Whether a key in `state` may authenticate a request. */
export function canAuthenticate(state: ApiKeyState): boolean {
  return state === 'active' || state === 'rotating';
}

/**
 * When a key stops authenticating if nothing else happens: the earlier of its expiry and the end of
 * its grace period, or `undefined` when it has neither.
 */
export function keyDeadline(key: ApiKeyTimes): number | undefined {
  const { expiresAt, graceUntil } = key;
  if (expiresAt === null) return graceUntil ?? undefined;
  if (graceUntil === null) return expiresAt;
  return Math.min(expiresAt, graceUntil);
}
