import { createHash, randomBytes } from 'node:crypto';
import { clientLabel, formTargetOf, readCookie, sameSecret } from './browser.js';
import type { OAuthClient } from './client.js';
import { type AuthorizationServerContext, allowedScopes, note } from './context.js';
import { OAuthError } from './errors.js';
import { PAGE_STYLE, renderConsentPage, renderErrorPage } from './page.js';
import { isS256Challenge } from './pkce.js';
import { findRedirectUri } from './redirect-uri.js';
import { readForm, uniqueParams } from './responses.js';
import type { Upstream, UpstreamIdentity, UpstreamStart } from './upstream.js';
import { type SignedInUser, signIn, upsertUpstreamUser } from './users.js';

/** A validated authorization request waiting for the user's decision. */
interface PendingAuthorization {
  readonly client: OAuthClient;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly csrf: string;
  readonly expiresAt: number;
  attempts: number;
}

const PENDING_TTL_MS = 10 * 60_000;
const MAX_LOGIN_ATTEMPTS = 5;
const SCOPE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'mcp:read': 'read data through the tools',
  'mcp:write': 'change data through the tools',
  'mcp:admin': 'run administrative tools',
};
const STYLE_HASH = createHash('sha256').update(PAGE_STYLE).digest('base64');

/**
 * `/oauth/authorize`: GET validates the request and shows the login and consent page; POST takes
 * the user's decision. Until the client and redirect URI are proven, errors are shown on a page
 * and never redirected (RFC 6749 §4.1.2.1); after that they go back to the client with `state`
 * and `iss` (RFC 9207).
 */
export function createAuthorizeEndpoint(ctx: AuthorizationServerContext) {
  // Pending requests live in the store, so that the page, the form post and an upstream callback
  // may reach different instances. Each is taken (get-and-delete) when the form is posted, so two
  // posts of one form can never both be approved; a wrong password puts it back.
  const csrfCookie = ctx.https ? '__Host-rampart_csrf' : 'rampart_csrf';
  const requestKey = (id: string) => `req:${id}`;
  const flightKey = (state: string) => `up:${state}`;
  const keep = (id: string, p: PendingAuthorization) => ctx.store.putPending(requestKey(id), p, p.expiresAt);

  /** Where the consent form may lead: back to the client, or on to the identity provider. */
  async function formTargets(redirectUri: string): Promise<string> {
    const client = formTargetOf(redirectUri);
    return ctx.upstream ? `${client} ${await ctx.upstream.authorizationOrigin()}` : client;
  }

  function page(body: string, status: number, formTarget: string | undefined, cookie?: string): Response {
    const formAction = formTarget ? `'self' ${formTarget}` : "'self'";
    const headers: Record<string, string> = {
      ...ctx.baseHeaders,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      // form-action covers the redirect that follows the form post, so it names the client's target.
      'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    };
    if (cookie) headers['set-cookie'] = cookie;
    return new Response(body, { status, headers });
  }

  function cookieFor(csrf: string): string {
    return `${csrfCookie}=${csrf}; Path=/; HttpOnly; SameSite=Strict; Max-Age=600${ctx.https ? '; Secure' : ''}`;
  }

  function redirectBack(redirectUri: string, params: Record<string, string | undefined>): Response {
    const url = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
    url.searchParams.set('iss', ctx.issuer);
    return new Response(null, {
      status: 302,
      headers: { ...ctx.baseHeaders, location: url.href, 'cache-control': 'no-store' },
    });
  }

  function errorPage(message: string): Response {
    return page(renderErrorPage('This request cannot be completed', message), 400, undefined);
  }

  function view(id: string, p: PendingAuthorization, extra: { error?: string; username?: string } = {}) {
    const host = new URL(p.redirectUri).host || new URL(p.redirectUri).protocol;
    return renderConsentPage({
      requestId: id,
      csrf: p.csrf,
      clientName: p.client.clientName ?? clientLabel(p.client),
      clientId: p.client.clientId,
      redirectHost: host,
      loopbackOnly: p.client.redirectUris.every((u) =>
        /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)[:/]/.test(u),
      ),
      scopes: p.scopes.map((name) => ({ name, description: SCOPE_DESCRIPTIONS[name] ?? '' })),
      resource: ctx.resource,
      upstreamName: ctx.upstream?.name,
      ...extra,
    });
  }

  async function get(request: Request): Promise<Response> {
    let params: Map<string, string>;
    try {
      params = uniqueParams(new URL(request.url).searchParams);
    } catch {
      return errorPage('A parameter is repeated.');
    }
    const clientId = params.get('client_id');
    if (!clientId) return errorPage('The request names no client.');
    let client: OAuthClient | undefined;
    try {
      client = await ctx.findClient(clientId);
    } catch (error) {
      ctx.logger.info({ err: error, clientId: clientId.slice(0, 200) }, 'oauth client not resolved');
      return errorPage('The client could not be identified.');
    }
    if (!client) return errorPage('The client is not known.');
    const requested = params.get('redirect_uri');
    // OAuth 2.1 §4.1.1: the redirect URI is required when a client has several, and always here.
    const redirectUri = requested ? findRedirectUri(requested, client.redirectUris) : undefined;
    if (!redirectUri) return errorPage('The redirect URI is not registered for this client.');

    const state = params.get('state');
    const back = (error: string, description: string) =>
      redirectBack(redirectUri, { error, error_description: description, state });
    if (params.get('response_type') !== 'code')
      return back('unsupported_response_type', 'response_type must be code');
    const challenge = params.get('code_challenge');
    const method = params.get('code_challenge_method');
    if (!challenge) return back('invalid_request', 'code_challenge is required (PKCE)');
    if (method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256');
    if (!isS256Challenge(challenge)) return back('invalid_request', 'code_challenge is malformed');
    const resource = params.get('resource');
    if (resource !== undefined && resource !== ctx.resource)
      return back('invalid_target', 'resource is not this server');
    const scopes = requestedScopes(params.get('scope'), client);
    if (scopes instanceof OAuthError) return back(scopes.error, scopes.message);

    const csrf = randomBytes(32).toString('base64url');
    const p: PendingAuthorization = {
      client,
      redirectUri,
      state,
      codeChallenge: challenge,
      scopes,
      csrf,
      expiresAt: ctx.now() + PENDING_TTL_MS,
      attempts: 0,
    };
    const id = randomBytes(16).toString('base64url');
    await keep(id, p);
    return page(view(id, p), 200, await formTargets(redirectUri), cookieFor(csrf));
  }

  async function post(request: Request, address: string): Promise<Response> {
    let form: Map<string, string>;
    try {
      form = await readForm(request);
    } catch {
      return errorPage('The form could not be read.');
    }
    const id = form.get('request_id') ?? '';
    const p = id ? await ctx.store.takePending<PendingAuthorization>(requestKey(id)) : undefined;
    if (!p || p.expiresAt <= ctx.now()) {
      return errorPage('This sign-in page has expired. Start again from your application.');
    }
    const cookie = readCookie(request.headers.get('cookie'), csrfCookie);
    if (!sameSecret(form.get('csrf'), p.csrf) || !sameSecret(cookie, p.csrf)) {
      // Put back: a forged post must not use up the real user's page.
      await keep(id, p);
      return errorPage('The form was not sent from this page (CSRF check failed).');
    }
    const back = (params: Record<string, string | undefined>) =>
      redirectBack(p.redirectUri, { ...params, state: p.state });
    const denied = (why: string) =>
      note(ctx, {
        event: 'oauth.grant.denied',
        outcome: 'deny',
        reason: why,
        detail: { clientId: p.client.clientId },
      });
    if (form.get('decision') !== 'approve') {
      denied('denied_by_user');
      return back({ error: 'access_denied', error_description: 'the user denied the request' });
    }
    if (ctx.upstream) return startUpstream(id, p, back);
    const username = form.get('username') ?? '';
    // Before the password check: guessing costs the guesser, and scrypt's work is not spent on it.
    const attempt = ctx.signInThrottle.begin(username, address);
    if (typeof attempt === 'number') {
      const waitSeconds = attempt;
      note(ctx, {
        event: 'oauth.login.failed',
        outcome: 'deny',
        reason: 'throttled',
        ip: address,
        detail: { clientId: p.client.clientId, user: username.slice(0, 128) },
      });
      await keep(id, p);
      return page(
        view(id, p, {
          error: `Too many failed sign-ins. Try again in ${Math.ceil(waitSeconds / 60)} minute(s).`,
          username,
        }),
        429,
        await formTargets(p.redirectUri),
      );
    }
    const user = await signIn(ctx.db, username, form.get('password') ?? '');
    if (user) attempt.succeeded();
    else {
      // The attempt stays charged.
      p.attempts++;
      note(ctx, {
        event: 'oauth.login.failed',
        outcome: 'deny',
        reason: 'bad_credentials',
        detail: { clientId: p.client.clientId, user: username.slice(0, 128) },
      });
      if (p.attempts >= MAX_LOGIN_ATTEMPTS) {
        denied('too_many_failed_sign_ins');
        return back({ error: 'access_denied', error_description: 'too many failed sign-in attempts' });
      }
      ctx.logger.info({ clientId: p.client.clientId }, 'oauth sign-in failed');
      await keep(id, p);
      return page(
        view(id, p, { error: 'Wrong user or password.', username }),
        401,
        await formTargets(p.redirectUri),
      );
    }
    return approve(p, user, 'password');
  }

  /** Issues the code for an approved request, and sends it back to the client. */
  async function approve(
    p: PendingAuthorization,
    user: SignedInUser,
    auth: 'password' | 'upstream',
  ): Promise<Response> {
    const back = (params: Record<string, string | undefined>) =>
      redirectBack(p.redirectUri, { ...params, state: p.state });
    const allowed = allowedScopes(ctx.scopePolicy, user.roles);
    const granted = p.scopes.filter((s) => allowed.has(s));
    if (granted.length === 0) {
      return back({
        error: 'invalid_scope',
        error_description: 'the user may not grant any of the requested scopes',
      });
    }
    const grant = await ctx.store.createGrant({
      userId: user.id,
      clientId: p.client.clientId,
      scope: granted.join(' '),
      resource: ctx.resource,
    });
    // The approval is on record before the code exists: if the trail cannot keep it, no code is issued.
    try {
      await ctx.audit({
        event: 'oauth.grant.approved',
        outcome: 'allow',
        principal: { iss: ctx.issuer, sub: user.id, auth, client: p.client.clientId },
        detail: { grantId: grant.id, clientId: p.client.clientId, scopes: granted },
      });
    } catch (error) {
      ctx.logger.error({ err: error }, 'audit record not stored; authorization refused');
      await ctx.store.revokeGrant(grant.id);
      return back({
        error: 'temporarily_unavailable',
        error_description: 'the server cannot record the approval',
      });
    }
    const code = randomBytes(32).toString('base64url');
    await ctx.store.putCode(code, {
      grantId: grant.id,
      clientId: p.client.clientId,
      redirectUri: p.redirectUri,
      codeChallenge: p.codeChallenge,
      expiresAt: ctx.now() + ctx.codeTtlSeconds * 1000,
    });
    ctx.logger.info(
      { clientId: p.client.clientId, user: user.id, scope: grant.scope },
      'oauth authorization granted',
    );
    return back({ code });
  }

  // ---- signing in through an upstream identity provider ------------------------------------------

  const upstreamCookie = ctx.https ? '__Host-rampart_upstream' : 'rampart_upstream';
  /** An upstream sign-in in flight, stored under its `state`; taken once by the callback. */
  interface Flight {
    readonly requestId: string;
    readonly started: UpstreamStart;
    readonly binding: string;
  }
  const callbackUrl = `${ctx.issuer}/oauth/upstream/callback`;

  /**
   * The user approved this client on our page (the consent a proxy with one static registration
   * upstream must get for every client, MCP security §Confused Deputy); now the provider signs
   * them in. A Lax cookie binds the callback to this browser, so nobody can finish another
   * person's sign-in with their own provider account.
   */
  async function startUpstream(
    requestId: string,
    p: PendingAuthorization,
    back: (params: Record<string, string | undefined>) => Response,
  ): Promise<Response> {
    const upstream = ctx.upstream as Upstream;
    let started: UpstreamStart;
    try {
      started = await upstream.start(callbackUrl);
    } catch (error) {
      ctx.logger.error({ err: error }, 'upstream sign-in could not start');
      return back({
        error: 'temporarily_unavailable',
        error_description: 'the identity provider cannot be reached',
      });
    }
    const binding = randomBytes(32).toString('base64url');
    const flight: Flight = { requestId, started, binding };
    // The request waits for the callback; the flight is what the callback must match.
    await keep(requestId, p);
    await ctx.store.putPending(flightKey(started.state), flight, ctx.now() + PENDING_TTL_MS);
    return new Response(null, {
      status: 302,
      headers: {
        ...ctx.baseHeaders,
        location: started.url,
        'cache-control': 'no-store',
        'set-cookie': `${upstreamCookie}=${binding}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600${ctx.https ? '; Secure' : ''}`,
      },
    });
  }

  /** `/oauth/upstream/callback`: the provider sends the browser back here. */
  async function upstreamCallback(request: Request): Promise<Response> {
    let params: Map<string, string>;
    try {
      params = uniqueParams(new URL(request.url).searchParams);
    } catch {
      return errorPage('A parameter is repeated.');
    }
    const state = params.get('state') ?? '';
    const flight = state ? await ctx.store.takePending<Flight>(flightKey(state)) : undefined;
    if (!flight) return errorPage('This sign-in has expired. Start again from your application.');
    if (!sameSecret(readCookie(request.headers.get('cookie'), upstreamCookie), flight.binding)) {
      return errorPage('This sign-in was started in another browser.');
    }
    const p = await ctx.store.takePending<PendingAuthorization>(requestKey(flight.requestId));
    if (!p) return errorPage('This sign-in has expired. Start again from your application.');
    const back = (values: Record<string, string | undefined>) =>
      redirectBack(p.redirectUri, { ...values, state: p.state });
    const code = params.get('code');
    if (params.has('error') || !code) {
      note(ctx, {
        event: 'oauth.grant.denied',
        outcome: 'deny',
        reason: 'upstream_refused',
        detail: { clientId: p.client.clientId },
      });
      return back({
        error: 'access_denied',
        error_description: 'the identity provider did not sign the user in',
      });
    }
    let identity: UpstreamIdentity;
    try {
      identity = await (ctx.upstream as Upstream).finish(code, flight.started, callbackUrl);
    } catch (error) {
      ctx.logger.warn({ err: error, clientId: p.client.clientId }, 'upstream sign-in failed');
      note(ctx, {
        event: 'oauth.login.failed',
        outcome: 'deny',
        reason: 'upstream_sign_in_failed',
        detail: { clientId: p.client.clientId },
      });
      return back({
        error: 'access_denied',
        error_description: 'the identity provider did not confirm the sign-in',
      });
    }
    const user = await upsertUpstreamUser(ctx.db, identity, ctx.now());
    return approve(p, user, 'upstream');
  }

  function requestedScopes(scope: string | undefined, client: OAuthClient): string[] | OAuthError {
    // offline_access is how some clients ask for refresh tokens; every grant here has one anyway.
    const names = (scope ?? '').split(' ').filter((s) => s && s !== 'offline_access');
    const known = new Set(ctx.knownScopes);
    const clientScopes = client.scope ? new Set(client.scope.split(' ')) : undefined;
    if (names.length === 0) return [...ctx.scopePolicy.default].filter((s) => known.has(s));
    for (const name of names) {
      if (!known.has(name)) return new OAuthError('invalid_scope', 'a requested scope is not known');
      if (clientScopes && !clientScopes.has(name)) {
        return new OAuthError('invalid_scope', 'a requested scope was not registered by the client');
      }
    }
    return [...new Set(names)];
  }

  return { get, post, upstreamCallback };
}
