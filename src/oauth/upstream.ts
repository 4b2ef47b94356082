import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { OAuthError } from './errors.js';
import { readCappedText } from './responses.js';

/** How Rampart signs in through an upstream OpenID provider (Cognito, Entra ID, Auth0, Okta, Keycloak…). */
export interface UpstreamOptions {
  /** The provider's issuer identifier; its discovery document is `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** Rampart's one registration at the provider. */
  readonly clientId: string;
  readonly clientSecret?: string | undefined;
  /** How Rampart authenticates at the provider's token endpoint (default `client_secret_basic`). */
  readonly tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Shown on the consent page's button: "Continue with <name>". */
  readonly name: string;
  /** Scopes asked of the provider (default `openid email profile`). */
  readonly scopes: readonly string[];
  /** Claim naming the user (default `sub`). */
  readonly subjectClaim: string;
  /** Claim holding the user's groups, e.g. `cognito:groups`, `groups` or `roles`. */
  readonly groupsClaim?: string | undefined;
  /** Upstream group → Rampart role. Groups not listed give no role. */
  readonly roles: Readonly<Record<string, string>>;
  /** Prefix of the Rampart user id made from the subject, so that upstream users never collide with local ones. */
  readonly userIdPrefix: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** The identity an upstream sign-in proved, mapped to Rampart's terms. */
export interface UpstreamIdentity {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly email?: string | undefined;
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

/** A started upstream sign-in: where to send the browser, and what the callback must present. */
export interface UpstreamStart {
  readonly url: string;
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
}

const USER_ID = /^[A-Za-z0-9._@-]{1,128}$/;

/**
 * The OpenID Connect client side of the front: authorization code flow with PKCE and a nonce,
 * and ID token validation (signature by the provider's JWKS, exact `iss`, `aud` containing our
 * client id, `azp` when there are several audiences, `exp`, `nonce`). The provider's metadata is
 * discovered once and must name the configured issuer exactly.
 */
export function createUpstream(options: UpstreamOptions) {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  let discovery: Promise<{ meta: Discovery; jwks: ReturnType<typeof createRemoteJWKSet> }> | undefined;

  function discover() {
    discovery ??= (async () => {
      const url = `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (!response.ok) throw new Error(`discovery answered ${response.status}`);
      const meta = JSON.parse(await cappedText(response)) as Discovery;
      if (meta.issuer !== options.issuer) throw new Error('discovery names another issuer');
      for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
        if (typeof meta[key] !== 'string' || !secureUrl(meta[key]))
          throw new Error(`discovery has no usable ${key}`);
      }
      return { meta, jwks: createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: timeoutMs }) };
    })().catch((error: unknown) => {
      discovery = undefined; // try again on the next sign-in
      throw error;
    });
    return discovery;
  }

  return {
    name: options.name,

    /** The origin the consent form's redirect goes to (its CSP `form-action` must name it). */
    async authorizationOrigin(): Promise<string> {
      try {
        return new URL((await discover()).meta.authorization_endpoint).origin;
      } catch {
        return new URL(options.issuer).origin;
      }
    },

    /** Starts a sign-in whose callback comes back to `redirectUri`. */
    async start(redirectUri: string): Promise<UpstreamStart> {
      const { meta } = await discover().catch((cause: unknown) => {
        throw new OAuthError('temporarily_unavailable', 'the identity provider cannot be reached', { cause });
      });
      const state = randomBytes(32).toString('base64url');
      const nonce = randomBytes(32).toString('base64url');
      const verifier = randomBytes(32).toString('base64url');
      const url = new URL(meta.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: options.clientId,
        redirect_uri: redirectUri,
        scope: options.scopes.join(' '),
        state,
        nonce,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      return { url: url.href, state, nonce, verifier };
    },

    /** Redeems the callback's code and validates the ID token. @throws OAuthError `access_denied`. */
    async finish(code: string, started: UpstreamStart, redirectUri: string): Promise<UpstreamIdentity> {
      const { meta, jwks } = await discover();
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: started.verifier,
      });
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      };
      const method = options.tokenEndpointAuthMethod ?? 'client_secret_basic';
      if (method === 'client_secret_basic') {
        const id = encodeURIComponent(options.clientId);
        const secret = encodeURIComponent(options.clientSecret ?? '');
        headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      } else {
        form.set('client_id', options.clientId);
        if (method === 'client_secret_post') form.set('client_secret', options.clientSecret ?? '');
      }
      const response = await doFetch(meta.token_endpoint, {
        method: 'POST',
        headers,
        body: form,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      const body = (await cappedText(response)
        .then(JSON.parse)
        .catch(() => ({}))) as { id_token?: unknown };
      if (!response.ok || typeof body.id_token !== 'string') {
        throw new OAuthError('access_denied', 'the identity provider did not confirm the sign-in', {
          cause: new Error(`token endpoint answered ${response.status}`),
        });
      }
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(body.id_token, jwks, {
          issuer: options.issuer,
          audience: options.clientId,
          requiredClaims: ['exp', 'iat', 'sub'],
          clockTolerance: 30,
        }));
      } catch (cause) {
        throw new OAuthError('access_denied', 'the identity provider did not confirm the sign-in', { cause });
      }
      if (claims.nonce !== started.nonce) {
        throw new OAuthError('access_denied', 'the identity provider did not confirm the sign-in', {
          cause: new Error('nonce mismatch'),
        });
      }
      // OIDC Core §3.1.3.7: with several audiences, azp must be us.
      if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== options.clientId) {
        throw new OAuthError('access_denied', 'the identity provider did not confirm the sign-in', {
          cause: new Error('azp mismatch'),
        });
      }
      return mapIdentity(claims, options);
    },
  };
}

/** The Rampart user and roles for an upstream identity. */
export function mapIdentity(
  claims: JWTPayload,
  options: Pick<UpstreamOptions, 'subjectClaim' | 'groupsClaim' | 'roles' | 'userIdPrefix'>,
): UpstreamIdentity {
  const subject = claims[options.subjectClaim];
  if (typeof subject !== 'string' || subject === '') {
    throw new OAuthError('access_denied', 'the identity provider gave no usable subject');
  }
  const plain = `${options.userIdPrefix}${subject}`;
  // Subjects like `auth0|123` do not fit a user id: those are named by a hash, never by a lossy rewrite.
  const userId = USER_ID.test(plain)
    ? plain
    : `${options.userIdPrefix}${createHash('sha256').update(subject).digest('base64url').slice(0, 32)}`;
  const raw = options.groupsClaim ? claims[options.groupsClaim] : undefined;
  const groups = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[ ,]+/) : [];
  const roles = new Set<string>();
  for (const group of groups) {
    if (typeof group === 'string' && Object.hasOwn(options.roles, group))
      roles.add(options.roles[group] as string);
  }
  return {
    userId,
    roles: [...roles],
    email: typeof claims.email === 'string' ? claims.email : undefined,
  };
}

/** Answers from the provider are small; a bigger one is refused rather than held in memory. */
const MAX_ANSWER_BYTES = 256 * 1024;

function cappedText(response: Response): Promise<string> {
  return readCappedText(response, MAX_ANSWER_BYTES, 'temporarily_unavailable');
}

function secureUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    url.protocol === 'https:' ||
    (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname))
  );
}

/** A configured upstream provider. */
export type Upstream = ReturnType<typeof createUpstream>;
