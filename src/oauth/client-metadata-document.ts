import { lookup as dnsLookup } from 'node:dns/promises';
import type { OAuthClient } from './client.js';
import { OAuthError } from './errors.js';
import { redirectUriProblem } from './redirect-uri.js';
import { type HostLookup, OutboundRequestError, pinnedGet } from './ssrf.js';

/** Options of {@link createClientMetadataResolver}. */
export interface ClientMetadataDocumentOptions {
  /**
   * Allow `http://` client ids and private, loopback and link-local addresses: for development
   * and tests only. Default false.
   */
  dangerouslyAllowPrivateAddresses?: boolean;
  /** Deadline for the whole fetch, DNS and body included, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Largest document in bytes; a larger one is refused without reading past the limit. Default 5120. */
  maxBytes?: number;
  /** How long a document is cached, in seconds; `Cache-Control: max-age` may shorten it. Default 300. */
  cacheTtlSeconds?: number;
  /** How many documents (and recent failures) are cached; the least recently used go first. Default 1000. */
  maxCacheEntries?: number;
  /** DNS lookup returning every address. Default `dns.promises.lookup(host, { all: true })`. */
  lookup?: HostLookup;
  /** Clock in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Resolves client ids that are metadata document URLs; see {@link createClientMetadataResolver}. */
export interface ClientMetadataResolver {
  /** Fetches (or recalls) and checks the document. @throws OAuthError `invalid_client`. */
  resolve(clientId: string): Promise<OAuthClient>;
  /** Forgets every cached document and failure. */
  clear(): void;
}

const MAX_ID_LENGTH = 2048;
const MAX_REDIRECT_URIS = 10;
/** A failure is remembered briefly so a bad id cannot make us fetch on every request, never longer. */
const FAILURE_TTL_SECONDS = 30;
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
const DEFAULT_GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether a client id names a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document,
 * "Client Identifier"): an absolute `https` URL (or `http` when `allowHttp`) of at most 2048
 * characters, with a path other than `/`, no fragment, no user info and no `.` or `..` segments.
 * It must also be in the form the URL parser gives back, so the id we compare with the document's
 * `client_id` is the URL we fetch. Pure: no DNS, no network.
 *
 * @param allowHttp Accept `http:` too (development only). Default false.
 * @example
 * isClientMetadataDocumentId('https://app.example/oauth/client.json'); // true
 * isClientMetadataDocumentId('https://app.example/'); // false: no path
 */
export function isClientMetadataDocumentId(clientId: string, allowHttp = false): boolean {
  if (clientId.length === 0 || clientId.length > MAX_ID_LENGTH || clientId.includes('#')) return false;
  if (!URL.canParse(clientId)) return false;
  const url = new URL(clientId);
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) return false;
  if (url.username !== '' || url.password !== '' || url.pathname === '/') return false;
  // Dot segments, raw or percent-encoded: the parser would remove them, so the id would not be
  // the URL fetched. The canonical-form check below catches them too; this says why.
  if (url.pathname.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s))) return false;
  return url.href === clientId;
}

/**
 * Checks a parsed Client ID Metadata Document (RFC 7591 §2 client metadata) and turns it into a
 * public client. Pure. Descriptions are fixed: nothing from the document reaches the client.
 *
 * @throws OAuthError `invalid_client` when the document lies about its id, asks for a shared
 *   secret, or has unsafe redirect URIs, unknown grant types or malformed fields.
 */
export function validateClientMetadataDocument(
  clientId: string,
  document: unknown,
  createdAt: number,
): OAuthClient {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw refusal('the client metadata document must be a JSON object');
  }
  // Own properties only: the document is hostile, and inherited names are not its claims.
  const field = (name: string): unknown =>
    Object.hasOwn(document, name) ? (document as Record<string, unknown>)[name] : undefined;
  // Simple string comparison, as the draft requires: a document cannot speak for another URL.
  if (field('client_id') !== clientId)
    throw refusal('the client metadata document names a different client_id');
  // No shared secret can exist with a client nobody registered (draft, "Client Metadata").
  if (Object.hasOwn(document, 'client_secret') || Object.hasOwn(document, 'client_secret_expires_at')) {
    throw refusal('a client metadata document must not contain a client secret');
  }
  const authMethod = field('token_endpoint_auth_method') ?? 'none';
  if (authMethod !== 'none')
    throw refusal('token_endpoint_auth_method must be none for a client metadata document');

  const redirectUris = field('redirect_uris');
  if (!Array.isArray(redirectUris) || redirectUris.length === 0 || redirectUris.length > MAX_REDIRECT_URIS) {
    throw refusal(`redirect_uris must list 1 to ${MAX_REDIRECT_URIS} URIs`);
  }
  for (const uri of redirectUris) {
    if (typeof uri !== 'string' || redirectUriProblem(uri) !== undefined) {
      throw refusal('a redirect URI in the client metadata document is not allowed');
    }
  }
  const grantTypes = field('grant_types') ?? DEFAULT_GRANT_TYPES;
  if (!Array.isArray(grantTypes) || grantTypes.length === 0 || !grantTypes.every((g) => GRANT_TYPES.has(g))) {
    throw refusal('grant_types may hold only authorization_code and refresh_token');
  }
  const responseTypes = field('response_types') ?? ['code'];
  if (!Array.isArray(responseTypes) || responseTypes.some((r) => r !== 'code')) {
    throw refusal('response_types may hold only code');
  }
  return {
    clientId,
    kind: 'metadata-document',
    redirectUris: [...(redirectUris as string[])],
    clientName: optionalString(field('client_name'), 'client_name', 200),
    clientUri: optionalHttpsUrl(field('client_uri'), 'client_uri'),
    logoUri: optionalHttpsUrl(field('logo_uri'), 'logo_uri'),
    tokenEndpointAuthMethod: 'none',
    scope: optionalString(field('scope'), 'scope', 1000),
    grantTypes: [...(grantTypes as string[])],
    createdAt,
  };
}

/**
 * Creates a resolver for Client ID Metadata Documents, the way of identifying clients that the MCP
 * authorization spec prefers over dynamic registration. Fetches are SSRF-guarded (see `ssrf.ts`):
 * only public addresses, pinned against DNS rebinding, no redirects, status 200 only,
 * `application/json` only, size- and time-bounded. Successes are cached for
 * min(`cacheTtlSeconds`, `max-age`), failures for at most 30 s, and concurrent resolves of one id
 * share a fetch.
 *
 * @throws TypeError on invalid options.
 * @example
 * const documents = createClientMetadataResolver({ timeoutMs: 3000 });
 * const client = await documents.resolve('https://app.example/oauth/client.json');
 */
export function createClientMetadataResolver(
  options: ClientMetadataDocumentOptions = {},
): ClientMetadataResolver {
  const allowPrivate = options.dangerouslyAllowPrivateAddresses ?? false;
  const timeoutMs = positiveInteger(options.timeoutMs ?? 5000, 'timeoutMs');
  const maxBytes = positiveInteger(options.maxBytes ?? 5120, 'maxBytes');
  const ttlSeconds = nonNegative(options.cacheTtlSeconds ?? 300, 'cacheTtlSeconds');
  const maxEntries = positiveInteger(options.maxCacheEntries ?? 1000, 'maxCacheEntries');
  const lookup: HostLookup =
    options.lookup ??
    (async (host) => (await dnsLookup(host, { all: true })) as { address: string; family: 4 | 6 }[]);
  const now = options.now ?? Date.now;

  const cache = new Map<string, { expiresAt: number; client?: OAuthClient; error?: OAuthError }>();
  const inFlight = new Map<string, Promise<OAuthClient>>();
  // Bumped by clear(), so a fetch started before it does not refill the cache after it.
  let generation = 0;

  const remember = (
    clientId: string,
    seconds: number,
    value: { client?: OAuthClient; error?: OAuthError },
  ) => {
    if (seconds <= 0) return;
    cache.delete(clientId);
    cache.set(clientId, { expiresAt: now() + seconds * 1000, ...value });
    for (const oldest of cache.keys()) {
      if (cache.size <= maxEntries) break;
      cache.delete(oldest);
    }
  };

  const fetchAndCheck = async (clientId: string): Promise<{ client: OAuthClient; seconds: number }> => {
    const response = await pinnedGet(new URL(clientId), {
      dangerouslyAllowPrivateAddresses: allowPrivate,
      timeoutMs,
      maxBytes,
      lookup,
      headers: { accept: 'application/json' },
    }).catch((error: unknown) => {
      throw refusal(fetchFailure(error), error);
    });
    // A redirect would let the document live at a URL other than its id (and aim us elsewhere).
    if (response.status >= 300 && response.status <= 399) {
      throw refusal('the client metadata document URL redirects; redirects are not followed', {
        status: response.status,
      });
    }
    if (response.status !== 200) {
      throw refusal('the client metadata document was not served with status 200', {
        status: response.status,
      });
    }
    const type = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json')
      throw refusal('the client metadata document must be served as application/json');
    let document: unknown;
    try {
      document = JSON.parse(utf8.decode(response.body));
    } catch {
      // No cause: a parser message would quote the document.
      throw refusal('the client metadata document is not valid JSON');
    }
    const client = validateClientMetadataDocument(clientId, document, now());
    return { client, seconds: Math.min(ttlSeconds, maxAgeSeconds(response.headers['cache-control'])) };
  };

  return {
    resolve(clientId) {
      if (!isClientMetadataDocumentId(clientId, allowPrivate)) {
        return Promise.reject(refusal('the client id is not a valid client metadata document URL'));
      }
      const cached = cache.get(clientId);
      if (cached && cached.expiresAt > now()) {
        cache.delete(clientId);
        cache.set(clientId, cached);
        return cached.client ? Promise.resolve(cached.client) : Promise.reject(cached.error);
      }
      cache.delete(clientId);
      const pending = inFlight.get(clientId);
      if (pending) return pending;
      const started = generation;
      const promise = fetchAndCheck(clientId).then(
        ({ client, seconds }) => {
          if (started === generation) remember(clientId, seconds, { client });
          return client;
        },
        (error: unknown) => {
          if (started === generation && error instanceof OAuthError) {
            remember(clientId, Math.min(ttlSeconds, FAILURE_TTL_SECONDS), { error });
          }
          throw error;
        },
      );
      const settled = promise.finally(() => {
        if (inFlight.get(clientId) === settled) inFlight.delete(clientId);
      });
      inFlight.set(clientId, settled);
      return settled;
    },
    clear() {
      generation += 1;
      cache.clear();
      inFlight.clear();
    },
  };
}

function refusal(description: string, cause?: unknown): OAuthError {
  return new OAuthError('invalid_client', description, cause === undefined ? undefined : { cause });
}

function fetchFailure(error: unknown): string {
  switch (error instanceof OutboundRequestError ? error.reason : 'unreachable') {
    case 'host_not_allowed':
      return 'the client metadata document host is not a public address';
    case 'host_not_resolved':
      return 'the client metadata document host could not be resolved';
    case 'timeout':
      return 'the client metadata document took too long to fetch';
    case 'too_large':
      return 'the client metadata document is too large';
    default:
      return 'the client metadata document could not be fetched';
  }
}

/** `max-age` from Cache-Control in seconds; 0 for `no-store` or `no-cache`; Infinity when absent. */
function maxAgeSeconds(header: string | undefined): number {
  let seconds = Number.POSITIVE_INFINITY;
  for (const directive of (header ?? '').toLowerCase().split(',')) {
    const [name = '', value] = directive.trim().split('=', 2);
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age') seconds = /^\d+$/.test(value ?? '') ? Number(value) : 0;
  }
  return seconds;
}

function optionalString(value: unknown, name: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw refusal(`${name} must be a string of at most ${max} characters`);
  }
  return value;
}

function optionalHttpsUrl(value: unknown, name: string): string | undefined {
  const text = optionalString(value, name, MAX_ID_LENGTH);
  if (text !== undefined && (!URL.canParse(text) || new URL(text).protocol !== 'https:')) {
    throw refusal(`${name} must be an https URL`);
  }
  return text;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}
