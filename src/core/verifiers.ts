import { join } from 'node:path';
import type { Logger } from 'pino';
import type { JwtIssuerOptions } from '../auth/jwt/options.js';
import type { TokenVerifier } from '../auth/verifier.js';
import type { ResolvedConfig } from '../config/index.js';

/**
 * The verifiers the configuration asks for: API keys from the key store in `storage.dataDir`,
 * and one JWT verifier for every configured issuer. Loaded lazily so that a deployment without
 * API keys never loads the SQLite driver.
 */
export async function createVerifiers(
  config: ResolvedConfig,
  resourceUrl: string,
  logger: Logger,
  embeddedIssuer?: JwtIssuerOptions,
): Promise<TokenVerifier[]> {
  const verifiers: TokenVerifier[] = [];
  if (config.auth.apiKeys.enabled) {
    const { openKeyStore } = await import('../stores/key-store.js');
    const { createApiKeyVerifier } = await import('../auth/api-keys/index.js');
    const store = await openKeyStore(join(config.storage.dataDir, 'rampart.db'));
    const verifier = createApiKeyVerifier({
      store: store.keys,
      cacheTtlMs: config.auth.apiKeys.cacheTtlMs,
      logger,
    });
    verifiers.push({
      name: verifier.name,
      accepts: (credential) => verifier.accepts(credential),
      verify: (credential) => verifier.verify(credential),
      close: async () => {
        await verifier.close?.();
        await store.close();
      },
    });
  }
  const { jwt } = config.auth;
  if (jwt.issuers.length > 0 || embeddedIssuer) {
    const { createJwtVerifier } = await import('../auth/jwt/index.js');
    verifiers.push(
      createJwtVerifier({
        issuers: [
          ...(embeddedIssuer ? [embeddedIssuer] : []),
          ...jwt.issuers.map((issuer) => ({
            issuer: issuer.issuer,
            ...(issuer.jwksUrl ? { jwksUrl: issuer.jwksUrl } : {}),
            ...(issuer.jwksFile ? { jwksFile: issuer.jwksFile } : {}),
            algorithms: [...issuer.algorithms],
            audience: resourceUrl,
            requiredTyp: issuer.requiredTyp,
            scopeClaim: issuer.scopeClaim,
            ...(issuer.rolesClaim ? { rolesClaim: issuer.rolesClaim } : {}),
            clockToleranceSeconds: issuer.clockToleranceSeconds,
          })),
        ],
        maxTokenBytes: jwt.maxTokenBytes,
        cache: { maxEntries: jwt.cacheMaxEntries, maxTtlSeconds: jwt.cacheMaxTtlSeconds },
        jwksTimeoutMs: jwt.jwksTimeoutMs,
        jwksCooldownMs: jwt.jwksCooldownMs,
      }),
    );
  }
  if (verifiers.length > 0) logger.debug({ verifiers: verifiers.map((v) => v.name) }, 'authentication ready');
  return verifiers;
}
