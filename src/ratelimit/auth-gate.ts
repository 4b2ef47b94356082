import type { Authenticate } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import { RampartError } from '../core/errors.js';
import { type AuthAttempt, isCredentialRejection, type RateLimiter } from './limiter.js';

type Headers = Parameters<Authenticate>[0];

/** Authenticates one request within its client address's budget of failed attempts. */
export type AuthGate = (
  ip: string,
  headers: Headers,
  authenticate: Authenticate,
) => Principal | Promise<Principal>;

/**
 * The failed-authentication budget around an endpoint's credential checks.
 *
 * - A credential answered from a cache is no guess: nothing is charged, but an address out of
 *   budget is still refused. The memory limiter answers at once, so this path stays synchronous.
 * - A credential checked asynchronously could be a guess: the attempt is charged first and given
 *   back unless the credential is rejected, so concurrent guesses cannot all pass one check.
 *   Requests carrying the same credential at once share one charge (a client fanning out calls
 *   with a fresh token is not guessing), and a good credential passes even when its burst used the
 *   budget up; a rejected one is then answered with the refusal.
 * - A credential rejected at once is charged then.
 * - No credential, or an outage (key store, JWKS), is not a guess and is not charged.
 *
 * @throws RampartError `ERR_RATE_LIMITED` when refused, or the authentication error.
 */
export function createAuthGate(limiter: RateLimiter): AuthGate {
  /** Credentials being checked asynchronously now, by client address: how many requests carry each. */
  const checking = new Map<string, number>();
  /** Client addresses with attempts being checked asynchronously: how many distinct credentials. */
  const inFlight = new Map<string, number>();

  async function rejectedAtOnce(ip: string, error: unknown): Promise<never> {
    if (isCredentialRejection(error)) {
      const charged = limiter.chargeAuthAttempt(ip); // throws the refusal when out of budget
      if (charged instanceof Promise) await charged;
    }
    throw error;
  }

  async function checkedLater(
    ip: string,
    headers: Headers,
    authenticated: Promise<Principal>,
  ): Promise<Principal> {
    authenticated.catch(() => undefined); // awaited below, unless refused first
    // An address out of budget is refused before any checking work; but while attempts from it
    // are being checked, their charges may yet be given back, so it is not refused then.
    if (!inFlight.has(ip)) await limiter.checkAuthBudget(ip);
    const key = `${ip}\n${headers.get('authorization') ?? ''}\n${headers.get('x-api-key') ?? ''}`;
    const first = hold(checking, key) === 1;
    if (first) hold(inFlight, ip);
    let attempt: AuthAttempt | undefined;
    let overBudget: unknown;
    try {
      if (first) {
        try {
          attempt = await limiter.chargeAuthAttempt(ip);
        } catch (refusal) {
          if (!isRateLimited(refusal)) throw refusal;
          overBudget = refusal;
        }
      }
      const principal = await authenticated;
      if (attempt) limiter.refundAuthAttempt(ip, attempt);
      return principal;
    } catch (error) {
      // A rejected credential's attempt stays charged; anything else was no guess.
      if (isCredentialRejection(error)) throw overBudget ?? error;
      if (attempt) limiter.refundAuthAttempt(ip, attempt);
      throw error;
    } finally {
      if (release(checking, key) === 0) release(inFlight, ip);
    }
  }

  return (ip, headers, authenticate) => {
    let authenticated: Principal | Promise<Principal>;
    try {
      authenticated = authenticate(headers);
    } catch (error) {
      return rejectedAtOnce(ip, error);
    }
    if (authenticated instanceof Promise) return checkedLater(ip, headers, authenticated);
    const checked = limiter.checkAuthBudget(ip);
    return checked ? checked.then(() => authenticated) : authenticated;
  };
}

/** Whether an error is a rate-limit refusal (HTTP 429). */
export function isRateLimited(error: unknown): error is RampartError {
  return error instanceof RampartError && error.code === 'ERR_RATE_LIMITED';
}

/** Counts one more holder of `key`; returns how many there are now. */
function hold(counts: Map<string, number>, key: string): number {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return n;
}

/** Counts one holder of `key` out; returns how many are left (the key is dropped at 0). */
function release(counts: Map<string, number>, key: string): number {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
  return left;
}
