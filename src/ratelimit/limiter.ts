import { JwtRejection } from '../auth/jwt/rejection.js';
import type { Principal } from '../auth/principal.js';
import { RampartError } from '../core/errors.js';
import { addressBucket } from './client-ip.js';
import type { RateDecision } from './gcra.js';
import type { Rate } from './rate.js';
import { monotonicNow, type RateLimitStore } from './store.js';

/** What the limiter enforces; built from `rateLimit` in the configuration. */
export interface RateLimits {
  /** Every MCP request of a principal, across all its credentials. */
  readonly perPrincipal: Rate | undefined;
  /** Calls of one tool by one principal, unless the tool has its own rate. */
  readonly perTool: Rate | undefined;
  /** Per-tool rates by tool name (from config, or the tool's own `rateLimit`). */
  readonly tools: ReadonlyMap<string, Rate>;
  /** Rejected credentials per client address (an IPv6 client's /64), charged before authentication. */
  readonly failedAuthPerIp: Rate | undefined;
}

/**
 * An authentication attempt charged to a client address: what the store answered, which
 * {@link RateLimiter.refundAuthAttempt} needs to give it back to the same bucket.
 */
export type AuthAttempt = RateDecision;

/** The rate-limit phase of the endpoint. Each charge throws `ERR_RATE_LIMITED` when refused. */
export interface RateLimiter {
  /**
   * Before authentication: charges one attempt to the client address, refusing it once its failed
   * attempts are used up. Charged first and given back on success (not peeked, then charged on
   * failure), so check and charge are one atomic step: concurrent guesses cannot all pass a check.
   *
   * @returns the attempt, to give back with {@link RateLimiter.refundAuthAttempt} unless the
   *   credential is rejected; undefined when failed attempts are not limited.
   * @throws RampartError `ERR_RATE_LIMITED` when refused, `ERR_UNAVAILABLE` when the store fails.
   */
  chargeAuthAttempt(ip: string): AuthAttempt | undefined | Promise<AuthAttempt | undefined>;
  /**
   * Refuses a client address whose failed attempts are used up, charging nothing: for a
   * credential answered from a cache, which no guess can be.
   *
   * @throws RampartError `ERR_RATE_LIMITED` when used up, `ERR_UNAVAILABLE` when the store fails.
   */
  checkAuthBudget(ip: string): void | Promise<void>;
  /**
   * Gives back an attempt whose credential was accepted or could not be checked (an outage is
   * not a guess). Not awaited and never throws: a refund only returns budget, so a late one cannot
   * over-admit; one that fails leaves the attempt charged (fail closed).
   */
  refundAuthAttempt(ip: string, attempt: AuthAttempt): void;
  /** Charges the principal for one request. */
  takePrincipal(principal: Principal): void | Promise<void>;
  /** Charges the principal for one call of `tool`. */
  takeTool(principal: Principal, tool: string): void | Promise<void>;
}

/**
 * Where each kind of bucket lives. Client addresses are keys anyone can mint before signing in;
 * in a memory store of their own, however many there are, they cannot crowd out the buckets of
 * principals (which an attacker would otherwise reset by flooding new addresses).
 */
export interface RateLimitStores {
  /** Failed-authentication buckets, keyed by client address. */
  readonly clients: RateLimitStore;
  /** Per-principal and per-tool buckets. */
  readonly principals: RateLimitStore;
}

/**
 * Whether an authentication error is a rejected credential, the thing a guesser produces and the
 * failed-attempt budget counts. A missing credential is not (the 401 discovery step), and neither
 * is an outage: the API-key store down (`ERR_UNAVAILABLE`), a JWKS that cannot be fetched
 * (`ERR_AUTH_INVALID_TOKEN` whose cause is a `JwtRejection` with reason `jwks_unavailable`), or any
 * error that is not a `RampartError`. Otherwise clients with good credentials would be locked out
 * for as long after the outage.
 */
export function isCredentialRejection(error: unknown): boolean {
  if (!(error instanceof RampartError) || error.code !== 'ERR_AUTH_INVALID_TOKEN') return false;
  return !(error.cause instanceof JwtRejection && error.cause.reason === 'jwks_unavailable');
}

/**
 * Builds the limiter over its stores: one for every kind (Redis), or one per kind
 * ({@link RateLimitStores}; memory). Keys are prefixed by kind so the budgets never mix: `p|` per
 * principal (issuer and subject, so API keys, tokens and sessions of one user share it), `t|` per
 * principal and tool, `a|` failed authentication per client address (IPv6: per /64).
 *
 * @param now - the clock in ms; by default {@link monotonicNow}, which never steps back.
 */
export function createRateLimiter(
  limits: RateLimits,
  stores: RateLimitStore | RateLimitStores,
  now: () => number = monotonicNow,
): RateLimiter {
  const { clients, principals } = 'take' in stores ? { clients: stores, principals: stores } : stores;
  const failedAuth = limits.failedAuthPerIp;

  function enforce(decision: RateDecision | Promise<RateDecision>): void | Promise<void> {
    if (decision instanceof Promise) return decision.then(refuseUnlessAllowed, storeFailed);
    refuseUnlessAllowed(decision);
  }

  // The last client address and its key: a connection's requests all come from one address, and
  // the charge and its refund ask for the same one.
  let lastIp = '';
  let lastKey = '';
  function clientKey(ip: string): string {
    if (ip !== lastIp) {
      lastKey = `a|${addressBucket(ip)}`;
      lastIp = ip;
    }
    return lastKey;
  }

  return {
    chargeAuthAttempt(ip) {
      if (!failedAuth) return undefined;
      const decision = clients.take(clientKey(ip), failedAuth, now());
      if (decision instanceof Promise) return decision.then(admitAttempt, storeFailed);
      return admitAttempt(decision);
    },
    checkAuthBudget(ip) {
      if (failedAuth) return enforce(clients.peek(clientKey(ip), failedAuth, now()));
    },
    refundAuthAttempt(ip, attempt) {
      if (!failedAuth) return;
      const refunded = clients.refund(clientKey(ip), failedAuth, attempt);
      if (refunded instanceof Promise) refunded.catch(ignore);
    },
    takePrincipal(principal) {
      if (limits.perPrincipal)
        return enforce(principals.take(keysOf(principal).principal, limits.perPrincipal, now()));
    },
    takeTool(principal, tool) {
      const rate = limits.tools.get(tool) ?? limits.perTool;
      if (rate) return enforce(principals.take(toolKey(keysOf(principal), tool), rate, now()));
    },
  };
}

/** A principal's bucket keys. */
interface BucketKeys {
  readonly base: string;
  readonly principal: string;
  readonly tools: Map<string, string>;
}

// A verified token's principal is one frozen object for all its requests: its keys are built once,
// and a Map lookup by a key string whose hash is already known is cheaper than by a new one.
const keyCache = new WeakMap<Principal, BucketKeys>();
const MAX_TOOL_KEYS = 256;

/**
 * One key part, length-prefixed: a sequence of them reads back one way only. Subjects may hold
 * `|` (`auth0|123`) and tool names are free text, so plain joining let `a|b` + `c` and `a` + `b|c`
 * share a budget.
 */
function part(text: string): string {
  return `${text.length}:${text}`;
}

function keysOf(principal: Principal): BucketKeys {
  let keys = keyCache.get(principal);
  if (keys === undefined) {
    const base = part(principal.issuer) + part(principal.subject);
    keys = { base, principal: `p|${base}`, tools: new Map() };
    if (Object.isFrozen(principal)) keyCache.set(principal, keys);
  }
  return keys;
}

function toolKey(keys: BucketKeys, tool: string): string {
  let key = keys.tools.get(tool);
  if (key === undefined) {
    key = `t|${keys.base}${part(tool)}`;
    if (keys.tools.size < MAX_TOOL_KEYS) keys.tools.set(tool, key);
  }
  return key;
}

/** A store that cannot answer refuses the request: nothing goes through uncounted (fail closed). */
function storeFailed(cause: unknown): never {
  throw new RampartError('ERR_UNAVAILABLE', { cause });
}

function ignore(): void {}

function admitAttempt(decision: RateDecision): AuthAttempt {
  refuseUnlessAllowed(decision);
  return decision;
}

function refuseUnlessAllowed(decision: RateDecision): void {
  if (decision.allowed) return;
  // Whole seconds, rounded up, at least 1: a client that waits this long is admitted.
  const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  throw new RampartError('ERR_RATE_LIMITED', {
    data: { retry_after: seconds },
    headers: { 'retry-after': String(seconds) },
  });
}
