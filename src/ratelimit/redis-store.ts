import { Redis, type RedisOptions } from 'ioredis';
import { intervalMicros, type RateDecision } from './gcra.js';
import type { Rate } from './rate.js';
import type { RateLimitStore } from './store.js';

// ioredis declares `class VerbatimString extends String` at load and makes none. V8 then keeps
// String.prototype in its dictionary "prototype setup" mode until some object inheriting from it
// gains a property, and until then optimized code cannot inline any string method: every
// `s.charCodeAt`, `s.slice`, `s.startsWith` in the process (ours, Node's, every library's) becomes
// a generic property lookup. That was 1.4 of the endpoint's 6.6 µs a request in-process and ~2 µs
// over HTTP (perf: Builtins_LoadIC). A property stored on a throwaway heir ends the setup mode; a test
// holds String.prototype fast after the package is imported.
const probe: { settled?: boolean } = Object.create(String.prototype);
probe.settled = true;

// The GCRA step of gcra.ts, run atomically inside Redis. Time comes from the Redis server, so
// instances with skewed clocks still share one timeline. Times are whole microseconds, as in
// gcra.ts, and are stored with all their digits: Lua's tostring keeps 14, which rounded each stored
// TAT (and let a saturated bucket admit 41% too many). Numbers travel as strings (Lua numbers are
// doubles; Redis would truncate returned numbers to integers).
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if not tat or tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return {0, string.format('%.17g', wait)} end
if ARGV[3] == '1' then
  local new_tat = tat + interval
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
end
return {1, '0'}
`;

// Gives one request back: the TAT moves back one interval (gone once it is past).
const REFUND_SCRIPT = `
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if not tat then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
tat = tat - tonumber(ARGV[1])
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil((tat - now) / 1000))
end
return 1
`;

// Tags every key with the bucket format (whole µs). Versions that stored ms under the bare key
// would read a µs TAT as a thousand times later (and we theirs as long past): during a rolling
// upgrade on one Redis, each must keep to its own keys.
const FORMAT = 'us|';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[:password@]host:port/db` (or `rediss://` for TLS). */
  readonly url: string;
  /** Prefix of every key, so several deployments can share a Redis. Default `rampart:rl:`. */
  readonly keyPrefix?: string;
  /** How long one command may take before the request is refused (fail closed). Default 500 ms. */
  readonly commandTimeoutMs?: number;
}

type GcraRedis = Redis & {
  rampartGcra(key: string, interval: string, tolerance: string, take: string): Promise<[number, string]>;
  rampartRefund(key: string, interval: string): Promise<number>;
};

/**
 * Buckets in Redis, shared by every instance of a deployment: one budget per principal however
 * many servers answer it. Each `take`, `peek` and `refund` is one script call (atomic in Redis).
 * When Redis does not answer in time the call fails, and the request with it (fail closed): a
 * limiter that cannot count does not let requests through uncounted. Buckets are whole
 * microseconds of Redis server time; keys expire once idle.
 */
export function createRedisStore(options: RedisStoreOptions): RateLimitStore {
  const redisOptions: RedisOptions = {
    keyPrefix: options.keyPrefix ?? 'rampart:rl:',
    commandTimeout: options.commandTimeoutMs ?? 500,
    // Fail fast while disconnected rather than queueing requests behind a dead connection.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // No socket until the first command: building the store opens nothing.
    lazyConnect: true,
  };
  const redis = new Redis(options.url, redisOptions) as GcraRedis;
  // Connection errors surface on the commands (refused requests), not as unhandled events.
  redis.on('error', () => {});
  redis.defineCommand('rampartGcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
  redis.defineCommand('rampartRefund', { numberOfKeys: 1, lua: REFUND_SCRIPT });

  // The first command connects; callers arriving meanwhile wait for that same connection. Later
  // disconnections are not waited for: commands fail at once and their requests are refused.
  let connecting: Promise<void> | undefined;
  const ready = async (): Promise<void> => {
    if (redis.status === 'ready') return;
    if (redis.status === 'wait') {
      connecting ??= redis.connect().finally(() => {
        connecting = undefined;
      });
    }
    if (connecting) await connecting;
  };

  const run = async (key: string, rate: Rate, take: boolean): Promise<RateDecision> => {
    await ready();
    const interval = intervalMicros(rate);
    const [allowed, wait] = await redis.rampartGcra(
      FORMAT + key,
      String(interval),
      String(interval * (rate.count - 1)),
      take ? '1' : '0',
    );
    // The store's answer carries no TAT: Redis keeps it.
    return allowed === 1
      ? { allowed: true, retryAfterMs: 0, tat: 0 }
      : { allowed: false, retryAfterMs: Number(wait) / 1000, tat: 0 };
  };

  return {
    take: (key, rate) => run(key, rate, true),
    peek: (key, rate) => run(key, rate, false),
    async refund(key, rate, taken) {
      if (!taken.allowed) return;
      await ready();
      await redis.rampartRefund(FORMAT + key, String(intervalMicros(rate)));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
