import { type Principal, principalKey } from '../auth/principal.js';
import { RampartError } from '../core/errors.js';
import type { RateDecision } from './gcra.js';
import type { Rate } from './rate.js';
import type { RateLimitStore } from './store.js';

/** What the limiter enforces; built from `rateLimit` in the configuration. */
export interface RateLimits {
  /** Every MCP request of a principal, across all its credentials. */
  readonly perPrincipal: Rate | undefined;
  /** Calls of one tool by one principal, unless the tool has its own rate. */
  readonly perTool: Rate | undefined;
  /** Per-tool rates by tool name (from config, or the tool's own `rateLimit`). */
  readonly tools: ReadonlyMap<string, Rate>;
  /** Rejected credentials per client address, checked before authentication. */
  readonly failedAuthPerIp: Rate | undefined;
}

/** The rate-limit phase of the endpoint. Each check throws `ERR_RATE_LIMITED` when refused. */
export interface RateLimiter {
  /** Before authentication: refuses a client address that has used up its failed attempts. */
  checkFailedAuth(ip: string): void | Promise<void>;
  /** After a credential was rejected: charges the client address. */
  recordFailedAuth(ip: string): void | Promise<void>;
  /** Charges the principal for one request. */
  takePrincipal(principal: Principal): void | Promise<void>;
  /** Charges the principal for one call of `tool`. */
  takeTool(principal: Principal, tool: string): void | Promise<void>;
}

/**
 * Builds the limiter over a store. Keys are prefixed by kind so the budgets never mix: `p|` per
 * principal (`issuer|subject`, so API keys, tokens and sessions of one user share it), `t|` per
 * principal and tool, `a|` failed authentication per client address.
 */
export function createRateLimiter(
  limits: RateLimits,
  store: RateLimitStore,
  now: () => number = Date.now,
): RateLimiter {
  function enforce(decision: RateDecision | Promise<RateDecision>): void | Promise<void> {
    if (decision instanceof Promise) return decision.then(refuseUnlessAllowed, storeFailed);
    refuseUnlessAllowed(decision);
  }

  return {
    checkFailedAuth(ip) {
      if (limits.failedAuthPerIp) return enforce(store.peek(`a|${ip}`, limits.failedAuthPerIp, now()));
    },
    recordFailedAuth(ip) {
      if (!limits.failedAuthPerIp) return;
      const decision = store.take(`a|${ip}`, limits.failedAuthPerIp, now());
      // The attempt already failed; charging it is all that matters, refused or not.
      if (decision instanceof Promise) return decision.then(() => undefined, storeFailed);
    },
    takePrincipal(principal) {
      if (limits.perPrincipal)
        return enforce(store.take(keysOf(principal).principal, limits.perPrincipal, now()));
    },
    takeTool(principal, tool) {
      const rate = limits.tools.get(tool) ?? limits.perTool;
      if (rate) return enforce(store.take(toolKey(keysOf(principal), tool), rate, now()));
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

function keysOf(principal: Principal): BucketKeys {
  let keys = keyCache.get(principal);
  if (keys === undefined) {
    const base = principalKey(principal);
    keys = { base, principal: `p|${base}`, tools: new Map() };
    if (Object.isFrozen(principal)) keyCache.set(principal, keys);
  }
  return keys;
}

function toolKey(keys: BucketKeys, tool: string): string {
  let key = keys.tools.get(tool);
  if (key === undefined) {
    key = `t|${keys.base}|${tool}`;
    if (keys.tools.size < MAX_TOOL_KEYS) keys.tools.set(tool, key);
  }
  return key;
}

/** A store that cannot answer refuses the request: nothing goes through uncounted (fail closed). */
function storeFailed(cause: unknown): never {
  throw new RampartError('ERR_UNAVAILABLE', { cause });
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
