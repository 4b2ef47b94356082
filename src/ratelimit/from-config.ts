import type { ResolvedConfig } from '../config/index.js';
import { ConfigError } from '../core/errors.js';
import type { MountOptions } from '../mount/options.js';
import { defaultSecretSources, resolveSecret } from '../secrets/index.js';
import type { Tool } from '../tools/define-tool.js';
import { createRateLimiter, type RateLimiter, type RateLimitStores } from './limiter.js';
import { parseRate, type Rate } from './rate.js';
import { createRedisStore } from './redis-store.js';
import { createMemoryStore, type RateLimitStore } from './store.js';

/**
 * The limiter from `rateLimit`, or none when it is off, with what closes its stores. Per-tool
 * rates: the configuration's, else the tool's own `rateLimit`. A name in `rateLimit.tools` that no
 * tool has is a typo, refused. In memory, client addresses and principals get a store each, of up
 * to `maxKeys` buckets, so a flood of addresses cannot crowd out principals' buckets.
 */
export async function rateLimiterFromConfig(
  config: ResolvedConfig,
  tools: ReadonlyMap<string, Tool>,
  mount: MountOptions | undefined,
): Promise<{ limiter: RateLimiter; store: Pick<RateLimitStore, 'close'> } | undefined> {
  const settings = config.rateLimit;
  if (!settings.enabled) return undefined;
  const rates = new Map<string, Rate>();
  for (const tool of tools.values()) {
    if (tool.rateLimit) rates.set(tool.name, parseRate(tool.rateLimit) as Rate);
  }
  for (const [name, text] of Object.entries(settings.tools)) {
    if (!tools.has(name) && !(mount && Object.hasOwn(mount.tools, name))) {
      throw new ConfigError(`rateLimit.tools.${name}`, 'names no tool of this server');
    }
    rates.set(name, parseRate(text) as Rate);
  }
  const rate = (text: string | null) => (text === null ? undefined : parseRate(text));
  let stores: RateLimitStores;
  if (settings.store === 'redis' && settings.redis) {
    const url = await resolveSecret(settings.redis.url, defaultSecretSources(), 'rateLimit.redis.url');
    const shared = createRedisStore({
      url: url.reveal(),
      keyPrefix: settings.redis.keyPrefix,
      commandTimeoutMs: settings.redis.commandTimeoutMs,
    });
    stores = { clients: shared, principals: shared };
  } else {
    stores = {
      clients: createMemoryStore({ maxKeys: settings.maxKeys }),
      principals: createMemoryStore({ maxKeys: settings.maxKeys }),
    };
  }
  const limiter = createRateLimiter(
    {
      perPrincipal: rate(settings.perPrincipal),
      perTool: rate(settings.perTool),
      tools: rates,
      failedAuthPerIp: rate(settings.failedAuthPerIp),
    },
    stores,
  );
  const close = async (): Promise<void> => {
    await stores.clients.close?.();
    if (stores.principals !== stores.clients) await stores.principals.close?.();
  };
  return { limiter, store: { close } };
}
