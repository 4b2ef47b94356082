import { z } from 'zod';
import { DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS } from '../auth/jwt/algorithms.js';
import { parseRate } from '../ratelimit/rate.js';

/**
 * The one schema of Rampart's configuration (`rampart.yaml` and `createRampart(config)` alike).
 *
 * Unknown keys are errors everywhere (`z.strictObject`); every default lives here, so this file is
 * also the documented defaults. Units are in the names. Secrets are never literal: settings that hold
 * one take a `secret://env/NAME` or `secret://file/PATH` reference (see `src/secrets`).
 */

const SECRET_REF = /^secret:\/\/(env\/[A-Za-z_][A-Za-z0-9_]*|file\/.+)$/;

/** A reference to a secret, resolved at start-up; never the secret itself. */
export const secretRef = z
  .string()
  .regex(SECRET_REF, 'must be a secret reference such as secret://env/NAME or secret://file/PATH')
  .describe('A secret reference: secret://env/NAME or secret://file/PATH');

const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, 'must be an RFC 6749 scope token');

const httpOrigin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'must be an origin such as https://app.example.com (no path)');

const tlsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    certFile: z.string().min(1).optional().describe('PEM certificate chain; reloaded when it changes'),
    keyFile: z.string().min(1).optional().describe('PEM private key; reloaded when it changes'),
    keyPassphrase: secretRef
      .optional()
      .describe('Passphrase of an encrypted keyFile, as a secret reference (never the passphrase itself)'),
    hstsMaxAgeSeconds: z.number().int().min(0).default(31_536_000),
  })
  .prefault({})
  .refine((tls) => !tls.enabled || (tls.certFile && tls.keyFile), {
    message: 'tls.enabled needs certFile and keyFile',
  });

const proxySchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('A TLS-terminating proxy is in front: plain HTTP off loopback is then allowed'),
    trustedAddresses: z
      .array(z.string().min(1))
      .default([])
      .describe('Proxy addresses or CIDRs whose X-Forwarded-* headers are trusted'),
  })
  .prefault({});

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8787),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~\-/]*$/)
      .default('/mcp'),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Canonical base URL clients use (https://mcp.example.com); defaults to the listen address'),
    allowedOrigins: z.array(httpOrigin).default([]).describe('Browser origins allowed to call the endpoint'),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe('Host header values accepted besides the public URL host (DNS-rebinding protection)'),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1_048_576),
    maxJsonDepth: z.number().int().min(4).max(1000).default(64),
    maxJsonElements: z.number().int().min(16).max(10_000_000).default(100_000),
    requestTimeoutMs: z.number().int().min(100).default(30_000),
    shutdownTimeoutMs: z.number().int().min(0).default(10_000),
    tls: tlsSchema,
    proxy: proxySchema,
  })
  .prefault({});

const protocolSchema = z
  .strictObject({
    legacy: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Serve 2025-era clients (initialize handshake)'),
        sessions: z
          .strictObject({
            enabled: z.boolean().default(true),
            ttlSeconds: z.number().int().min(10).default(3600),
            maxSessions: z.number().int().min(1).default(10_000),
          })
          .prefault({}),
      })
      .prefault({}),
    listTtlMs: z.number().int().min(0).default(60_000).describe('Cache hint on tools/list and discover'),
    serverName: z.string().min(1).max(128).default('rampart'),
    serverVersion: z.string().min(1).max(64).default('0.1.0'),
    instructions: z.string().max(10_000).optional(),
  })
  .prefault({});

const jwtIssuerSchema = z
  .strictObject({
    issuer: z.string().min(1),
    jwksUrl: z.url({ protocol: /^https?$/ }).optional(),
    jwksFile: z.string().min(1).optional(),
    algorithms: z
      .array(z.enum(JWT_ALGORITHMS))
      .min(1)
      .default([...DEFAULT_JWT_ALGORITHMS]),
    requiredTyp: z.union([z.string().min(1), z.literal(false)]).default('at+jwt'),
    scopeClaim: z.string().min(1).default('scope'),
    rolesClaim: z.string().min(1).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(60).default(30),
  })
  .refine((i) => Boolean(i.jwksUrl) !== Boolean(i.jwksFile), {
    message: 'set exactly one of jwksUrl and jwksFile',
  });

const authSchema = z
  .strictObject({
    apiKeys: z
      .strictObject({
        enabled: z.boolean().default(true),
        cacheTtlMs: z.number().int().min(0).max(300_000).default(5000),
      })
      .prefault({}),
    jwt: z
      .strictObject({
        issuers: z.array(jwtIssuerSchema).default([]),
        maxTokenBytes: z.number().int().min(256).max(65_536).default(8192),
        cacheMaxEntries: z.number().int().min(0).default(10_000),
        cacheMaxTtlSeconds: z.number().int().min(0).max(3600).default(60),
        jwksTimeoutMs: z.number().int().min(100).default(5000),
        jwksCooldownMs: z.number().int().min(0).default(30_000),
      })
      .prefault({}),
  })
  .prefault({});

const authorizationSchema = z
  .strictObject({
    scopes: z
      .array(scopeToken)
      .min(1)
      .default(['mcp:read', 'mcp:write', 'mcp:admin'])
      .describe('Scopes this resource knows, advertised as scopes_supported'),
    hierarchy: z
      .record(scopeToken, z.array(scopeToken))
      .default({ 'mcp:admin': ['mcp:write'], 'mcp:write': ['mcp:read'] })
      .describe('A scope implies the scopes listed for it, transitively'),
  })
  .prefault({});

const rate = z
  .string()
  .refine((text) => parseRate(text) !== undefined, 'must be a rate such as 100/min, 5/hour or 20/10s')
  .describe('A rate: N/s, N/min, N/hour, N/day, or N/<k>s and the like');

const rateLimitSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    perPrincipal: rate
      .nullable()
      .default('600/min')
      .describe('Requests per principal, across all its keys, tokens and sessions (null: no limit)'),
    perTool: rate.nullable().default('300/min').describe('Calls of one tool per principal (null: no limit)'),
    tools: z
      .record(z.string(), rate)
      .default({})
      .describe("Per-tool rates by tool name; override the tool's own"),
    failedAuthPerIp: rate
      .nullable()
      .default('30/min')
      .describe('Rejected credentials per client address before it is refused outright (null: no limit)'),
    maxKeys: z
      .number()
      .int()
      .min(1000)
      .default(100_000)
      .describe('Most rate buckets kept in memory, in each of its two stores (client addresses; principals)'),
    store: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('memory: this process only; redis: shared by every instance'),
    redis: z
      .strictObject({
        url: secretRef.describe('redis://[:password@]host:port/db, as a secret reference'),
        keyPrefix: z.string().max(64).default('rampart:rl:'),
        commandTimeoutMs: z.number().int().min(10).max(10_000).default(500),
      })
      .optional(),
  })
  .refine((r) => r.store !== 'redis' || r.redis !== undefined, {
    message: 'store "redis" needs redis.url',
    path: ['redis'],
  })
  .prefault({});

const auditSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    sink: z
      .enum(['file', 'stdout'])
      .default('file')
      .describe('file: a hash-chained JSON Lines file; stdout: the same lines on stdout'),
    file: z.string().min(1).optional().describe('The log file (default: <dataDir>/audit.log)'),
    mode: z
      .enum(['durable', 'buffered'])
      .default('durable')
      .describe(
        'durable: a call is answered only once its record is on disk; buffered: written within flushIntervalMs',
      ),
    flushIntervalMs: z.number().int().min(1).max(10_000).default(50),
    rotateMiB: z
      .number()
      .min(0)
      .default(256)
      .describe('Rotate the log file at this size (0: never); rotated files keep the chain'),
    checkpointEvery: z.number().int().min(1).default(1000).describe('Records between keyed checkpoints'),
    checkpointIntervalSeconds: z
      .number()
      .int()
      .min(1)
      .default(60)
      .describe('Longest time between checkpoints while records are written'),
    checkpointKey: secretRef
      .optional()
      .describe('Key of the checkpoint HMACs (default: <dataDir>/audit.key, created on first start)'),
  })
  .prefault({});

const sanitizePattern = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  pattern: z
    .string()
    .min(1)
    .max(1000)
    .refine((source) => {
      try {
        new RegExp(source, 'g');
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression'),
  caseInsensitive: z.boolean().default(false),
  replacement: z.string().max(200).default('[REDACTED]'),
});

const sanitizeSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Redact secrets and control characters in tool output'),
    maxOutputChars: z
      .number()
      .int()
      .min(1024)
      .default(262_144)
      .describe('Most characters of text in one tool result; the rest is cut with a marker'),
    disabledRules: z.array(z.string()).default([]).describe('Ids of built-in rules to turn off'),
    patterns: z.array(sanitizePattern).default([]).describe('Your own redaction rules'),
  })
  .prefault({});

const threshold = z
  .strictObject({
    count: z.number().int().min(1),
    windowSeconds: z.number().int().min(1).max(86_400),
  })
  .nullable();

const detectionSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    authFailuresPerIp: threshold
      .default({ count: 20, windowSeconds: 60 })
      .describe('Rejected credentials from one address (IPv6: one /64), in a sliding window'),
    deniedPerPrincipal: threshold
      .default({ count: 20, windowSeconds: 60 })
      .describe(
        "Denials of one principal: by scope or role, and by a tool's own rules (allow rules, refused paths)",
      ),
    rateLimitedPerPrincipal: threshold.default({ count: 100, windowSeconds: 60 }),
    rateLimitedPerIp: threshold.default({ count: 100, windowSeconds: 60 }),
  })
  .prefault({});

const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/)
      .default('/metrics')
      .describe('On the main listener, for an admin credential only'),
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535),
      })
      .optional()
      .describe('A separate listener without authentication; loopback addresses only'),
  })
  .prefault({});

const storageSchema = z
  .strictObject({
    dataDir: z.string().min(1).default('.rampart').describe('Where the key store and other state live'),
  })
  .prefault({});

const loggingSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    requests: z.boolean().default(true).describe('One access-log line per request'),
  })
  .prefault({});

const oauthClientSchema = z.strictObject({
  clientId: z.string().min(1).max(255),
  clientName: z.string().min(1).max(200).optional(),
  redirectUris: z.array(z.string().min(1).max(2048)).min(1).max(10),
  clientSecret: secretRef.optional().describe('Makes the client confidential (client_secret_basic or _post)'),
  tokenEndpointAuthMethod: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  scope: z.string().max(1000).optional().describe('Space-separated scopes the client may ask for'),
});

const oauthSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('The embedded OAuth 2.1 authorization server'),
    accessTokenTtlSeconds: z.number().int().min(60).max(3600).default(600),
    refreshTokenTtlSeconds: z.number().int().min(300).max(7_776_000).default(2_592_000),
    codeTtlSeconds: z.number().int().min(10).max(600).default(60),
    scopes: z
      .strictObject({
        default: z
          .array(scopeToken)
          .default(['mcp:read', 'mcp:write'])
          .describe('Scopes every user may grant'),
        byRole: z
          .record(z.string().min(1), z.array(scopeToken))
          .default({ admin: ['mcp:admin'] })
          .describe('Scopes a role adds'),
      })
      .prefault({}),
    registration: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Dynamic Client Registration (RFC 7591)'),
        rate: z.string().default('20/hour').describe('Registrations per client address'),
      })
      .prefault({}),
    clientMetadataDocuments: z
      .strictObject({
        enabled: z.boolean().default(true),
        dangerouslyAllowPrivateAddresses: z
          .boolean()
          .default(false)
          .describe('Fetch documents from loopback and private addresses and over http: development only'),
      })
      .prefault({}),
    signIn: z
      .strictObject({
        failuresPerUser: z
          .string()
          .default('10/15min')
          .describe('Failed sign-ins per user name before a pause'),
        failuresPerAddress: z.string().default('30/15min').describe('Failed sign-ins per client address'),
      })
      .prefault({}),
    clients: z.array(oauthClientSchema).default([]).describe('Pre-registered clients'),
    upstream: z
      .strictObject({
        issuer: z
          .url()
          .describe(
            'The OpenID provider; its discovery document is read from <issuer>/.well-known/openid-configuration',
          ),
        name: z.string().min(1).max(64).describe('Shown on the consent page: "continue with <name>"'),
        clientId: z.string().min(1).max(255).describe("Rampart's registration at the provider"),
        clientSecret: secretRef.optional(),
        tokenEndpointAuthMethod: z
          .enum(['client_secret_basic', 'client_secret_post', 'none'])
          .default('client_secret_basic'),
        scopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
        subjectClaim: z.string().min(1).default('sub'),
        groupsClaim: z.string().min(1).optional().describe('e.g. cognito:groups, groups, roles'),
        roles: z.record(z.string(), z.string().min(1)).default({}).describe('Upstream group -> Rampart role'),
        userIdPrefix: z
          .string()
          .regex(/^[A-Za-z0-9._@-]{0,32}$/)
          .default('sso.')
          .describe('Prefix of the user ids made from upstream subjects'),
      })
      .optional()
      .describe('Sign users in at an upstream OpenID provider (Cognito, Entra ID, Auth0, Okta, Keycloak)'),
  })
  .prefault({});

/** The whole configuration. */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  server: serverSchema,
  protocol: protocolSchema,
  auth: authSchema,
  oauth: oauthSchema,
  authorization: authorizationSchema,
  rateLimit: rateLimitSchema,
  audit: auditSchema,
  sanitize: sanitizeSchema,
  detection: detectionSchema,
  metrics: metricsSchema,
  storage: storageSchema,
  logging: loggingSchema,
});

/** Configuration as written by a user (every field optional). */
export type RampartConfigInput = z.input<typeof configSchema>;
/** Configuration after defaults: what the code reads. */
export type ResolvedConfig = z.output<typeof configSchema>;
