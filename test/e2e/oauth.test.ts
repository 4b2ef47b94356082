import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';
import { modernRequest } from '../helpers/mcp.js';
import {
  type ConsentPage,
  openConsentPage,
  pkcePair,
  registerPublicClient,
  submitConsent,
  tokenRequest,
} from '../helpers/oauth.js';

const REDIRECT = 'http://127.0.0.1:5555/callback';
let demo: DemoServer;
let clientId: string;
let documents: Server;
let documentBase: string;
/** Client ID Metadata Documents by path; each builds its document from the server's base URL. */
const served = new Map<string, (base: string) => Record<string, unknown>>([
  [
    '/good.json',
    (base) => ({ client_id: `${base}/good.json`, client_name: 'Document client', redirect_uris: [REDIRECT] }),
  ],
  [
    '/liar.json',
    () => ({
      client_id: 'https://trusted.example/client.json',
      client_name: 'Liar',
      redirect_uris: [REDIRECT],
    }),
  ],
  [
    '/secret.json',
    (base) => ({ client_id: `${base}/secret.json`, client_secret: 'x', redirect_uris: [REDIRECT] }),
  ],
]);

beforeAll(async () => {
  demo = await startDemoServer({
    // Documents are served from loopback in this test, which production refuses.
    oauth: {
      enabled: true,
      clientMetadataDocuments: { enabled: true, dangerouslyAllowPrivateAddresses: true },
    },
  });
  documents = createServer((req, res) => {
    const doc = served.get(req.url ?? '');
    if (!doc) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc(documentBase)));
  });
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
  documentBase = `http://127.0.0.1:${(documents.address() as AddressInfo).port}`;
  clientId = (await registerPublicClient(demo.url, [REDIRECT])).clientId;
}, 30_000);
afterAll(async () => {
  await new Promise((resolve) => documents?.close(resolve));
  await demo?.stop();
});

function authorizeParams(challenge: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-123',
    resource: demo.mcpUrl,
    scope: 'mcp:read mcp:write',
    ...extra,
  };
}

/** Runs authorize + approve as `user`; returns the code and the verifier. */
async function authorizeAs(
  user = 'alice',
  extra: Record<string, string> = {},
): Promise<{ code: string; verifier: string; location: URL }> {
  const { verifier, challenge } = pkcePair();
  const page = await openConsentPage(demo.url, authorizeParams(challenge, extra));
  expect(page.status).toBe(200);
  const response = await submitConsent(demo.url, page, {
    username: user,
    password: demo.passwords[user] as string,
    decision: 'approve',
  });
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') as string);
  return { code: location.searchParams.get('code') as string, verifier, location };
}

async function redeem(code: string, verifier: string, extra: Record<string, string> = {}) {
  return tokenRequest(demo.url, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: REDIRECT,
    resource: demo.mcpUrl,
    ...extra,
  });
}

async function callEcho(token: string): Promise<number> {
  const response = await fetch(
    modernRequest(demo.mcpUrl, token, 'tools/call', { name: 'list_items', arguments: { table: 'orders' } }),
  );
  return response.status;
}

describe('discovery', () => {
  it('publishes RFC 8414 metadata whose issuer is the URL it is served from', async () => {
    const response = await fetch(`${demo.url}/.well-known/oauth-authorization-server`);
    const meta = (await response.json()) as Record<string, unknown>;
    expect(meta.issuer).toBe(demo.url);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.grant_types_supported).toEqual(['authorization_code', 'refresh_token']);
    expect(meta.token_endpoint).toBe(`${demo.url}/oauth/token`);
  });

  it('names the authorization server in the protected resource metadata', async () => {
    const challenge = await fetch(modernRequest(demo.mcpUrl, undefined, 'tools/list'));
    expect(challenge.status).toBe(401);
    const header = challenge.headers.get('www-authenticate') as string;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(header)?.[1] as string;
    const meta = (await (await fetch(metadataUrl)).json()) as { authorization_servers: string[] };
    expect(meta.authorization_servers).toEqual([demo.url]);
  });

  it('publishes the signing key in the JWKS, public parts only', async () => {
    const jwks = (await (await fetch(`${demo.url}/oauth/jwks`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key.d).toBeUndefined();
      expect(key.alg).toBe('ES256');
    }
  });
});

describe('the authorization code flow', () => {
  it('issues an audience-bound token that calls a tool, and refresh tokens that rotate', async () => {
    const { code, verifier, location } = await authorizeAs('alice');
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(demo.url);

    const tokens = await redeem(code, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get('cache-control')).toBe('no-store');
    expect(tokens.body.token_type).toBe('Bearer');
    expect(tokens.body.scope).toBe('mcp:read mcp:write');
    const access = tokens.body.access_token as string;
    const [, payload] = access.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({ iss: demo.url, aud: demo.mcpUrl, sub: 'alice', client_id: clientId });
    expect(await callEcho(access)).toBe(200);

    const refreshed = await tokenRequest(demo.url, {
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token as string,
      client_id: clientId,
      resource: demo.mcpUrl,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.body.refresh_token);
    expect(await callEcho(refreshed.body.access_token as string)).toBe(200);

    // Reusing the old refresh token revokes the whole grant: the newest tokens die too.
    const reused = await tokenRequest(demo.url, {
      grant_type: 'refresh_token',
      refresh_token: tokens.body.refresh_token as string,
      client_id: clientId,
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    expect(await callEcho(refreshed.body.access_token as string)).toBe(401);
    const afterReuse = await tokenRequest(demo.url, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token as string,
      client_id: clientId,
    });
    expect(afterReuse.body.error).toBe('invalid_grant');
  });

  it('approves one form once, however often it is posted at the same time', async () => {
    const { challenge } = pkcePair();
    const page = await openConsentPage(demo.url, authorizeParams(challenge));
    const fields = {
      username: 'alice',
      password: demo.passwords.alice as string,
      decision: 'approve' as const,
    };
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => submitConsent(demo.url, page, fields)),
    );
    const codes = responses.filter((r) => r.status === 302 && r.headers.get('location')?.includes('code='));
    expect(codes).toHaveLength(1);
    expect(responses.filter((r) => r.status === 400)).toHaveLength(4);
  });

  it('refuses a replayed code and revokes what the first use issued', async () => {
    const { code, verifier } = await authorizeAs('alice');
    const first = await redeem(code, verifier);
    expect(first.status).toBe(200);
    const replay = await redeem(code, verifier);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(await callEcho(first.body.access_token as string)).toBe(401);
  });

  it('grants only the scopes a user may hold: bob gets no mcp:admin', async () => {
    const { code, verifier } = await authorizeAs('bob', { scope: 'mcp:read mcp:admin' });
    const tokens = await redeem(code, verifier);
    expect(tokens.body.scope).toBe('mcp:read');
  });

  it('revokes a grant by RFC 7009, and the access token stops working at once', async () => {
    const { code, verifier } = await authorizeAs('alice');
    const tokens = await redeem(code, verifier);
    const access = tokens.body.access_token as string;
    expect(await callEcho(access)).toBe(200);
    const response = await fetch(`${demo.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: access, client_id: clientId }),
    });
    expect(response.status).toBe(200);
    expect(await callEcho(access)).toBe(401);
  });

  it('sends a denial back with error, state and iss', async () => {
    const { challenge } = pkcePair();
    const page = await openConsentPage(demo.url, authorizeParams(challenge));
    const response = await submitConsent(demo.url, page, { decision: 'deny' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') as string);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(demo.url);
  });

  it('shows the page again after a wrong password, and gives up after five', async () => {
    const { challenge } = pkcePair();
    const page = await openConsentPage(demo.url, authorizeParams(challenge));
    for (let i = 0; i < 4; i++) {
      const response = await submitConsent(demo.url, page, {
        username: 'alice',
        password: 'wrong',
        decision: 'approve',
      });
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('Wrong user or password');
    }
    const last = await submitConsent(demo.url, page, {
      username: 'alice',
      password: 'wrong',
      decision: 'approve',
    });
    expect(last.status).toBe(302);
    expect(new URL(last.headers.get('location') as string).searchParams.get('error')).toBe('access_denied');
  });
});

describe('sign-in throttling', () => {
  it('pauses a user name after 10 failures, across authorization requests, before any password check', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      // Each authorization request allows five attempts; the user-name budget spans requests.
      const page = await openConsentPage(demo.url, authorizeParams(pkcePair().challenge));
      last = await submitConsent(demo.url, page, {
        username: 'mallory',
        password: `guess-${i}`,
        decision: 'approve',
      });
    }
    expect(last?.status).toBe(429);
    expect(await last?.text()).toContain('Too many failed sign-ins');
    // Another user is not paused by mallory's failures.
    const { code } = await authorizeAs('bob');
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('holds concurrent guesses at one account to the budget: each is charged before its password check', async () => {
    // Checked first and charged after, all of them passed the check while the others were hashing.
    const pages = await Promise.all(
      Array.from({ length: 16 }, () => openConsentPage(demo.url, authorizeParams(pkcePair().challenge))),
    );
    const statuses = await Promise.all(
      pages.map(
        async (page, i) =>
          (
            await submitConsent(demo.url, page, {
              username: 'trudy',
              password: `guess-${i}`,
              decision: 'approve',
            })
          ).status,
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
  });
});

describe('the consent page', () => {
  let page: ConsentPage;
  beforeAll(async () => {
    page = await openConsentPage(demo.url, authorizeParams(pkcePair().challenge));
  });

  it('is not cached, not framed and sets an HttpOnly SameSite cookie', () => {
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const cookie = page.headers.get('set-cookie') as string;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });

  it('names the client and where it will send the user', () => {
    expect(page.html).toContain('Test client');
    expect(page.html).toContain('127.0.0.1:5555');
    expect(page.html).toContain('mcp:write');
  });

  it('refuses a form without the matching CSRF cookie', async () => {
    const response = await submitConsent(demo.url, page, {
      username: 'alice',
      password: demo.passwords.alice as string,
      decision: 'approve',
      cookie: 'rampart_csrf=forged',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('CSRF');
  });

  it('escapes a hostile client name', async () => {
    const hostile = await registerPublicClient(demo.url, [REDIRECT], {
      client_name: '<script>alert(1)</script>',
    });
    const { challenge } = pkcePair();
    const shown = await openConsentPage(
      demo.url,
      authorizeParams(challenge, { client_id: hostile.clientId }),
    );
    expect(shown.html).not.toContain('<script>alert(1)</script>');
    expect(shown.html).toContain('&#60;script&#62;');
  });
});

describe('refusals at /authorize', () => {
  const params = () => authorizeParams(pkcePair().challenge);

  it.each([
    ['an unknown client', { client_id: 'rc_nobody' }],
    ['no client', { client_id: '' }],
    ['another host', { redirect_uri: 'http://evil.example/callback' }],
    ['an extra path', { redirect_uri: `${REDIRECT}/more` }],
    ['an extra query', { redirect_uri: `${REDIRECT}?x=1` }],
    ['a fragment', { redirect_uri: `${REDIRECT}#frag` }],
    ['user info', { redirect_uri: 'http://attacker@127.0.0.1:5555/callback' }],
    ['a case change', { redirect_uri: 'http://127.0.0.1:5555/CALLBACK' }],
    ['encoded traversal', { redirect_uri: 'http://127.0.0.1:5555/callback/..%2f..%2fadmin' }],
    ['a javascript: URI', { redirect_uri: 'javascript:alert(1)' }],
    ['a data: URI', { redirect_uri: 'data:text/html,hi' }],
    ['a file: URI', { redirect_uri: 'file:///etc/passwd' }],
    ['https instead of http', { redirect_uri: 'https://127.0.0.1:5555/callback' }],
  ])('never redirects for %s', async (_name, override) => {
    const page = await openConsentPage(demo.url, { ...params(), ...override });
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
  });

  it('lets a loopback redirect differ only in its port', async () => {
    const page = await openConsentPage(demo.url, {
      ...params(),
      redirect_uri: 'http://127.0.0.1:6000/callback',
    });
    expect(page.status).toBe(200);
  });

  it.each([
    ['no PKCE', { code_challenge: '' }, 'invalid_request'],
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['a malformed challenge', { code_challenge: 'short' }, 'invalid_request'],
    ['another resource', { resource: 'https://other.example/mcp' }, 'invalid_target'],
    ['a token response type', { response_type: 'token' }, 'unsupported_response_type'],
    ['an unknown scope', { scope: 'mcp:read root' }, 'invalid_scope'],
  ])('sends %s back as %s with state and iss', async (_name, override, error) => {
    const page = await openConsentPage(demo.url, { ...params(), ...override });
    expect(page.status).toBe(302);
    const location = new URL(page.headers.get('location') as string);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('st-123');
    expect(location.searchParams.get('iss')).toBe(demo.url);
  });
});

describe('refusals at /token', () => {
  it.each([
    ['a missing verifier', (v: string) => ({ code_verifier: v.slice(0, 0) }), 'invalid_request'],
    ['a wrong verifier', () => ({ code_verifier: 'x'.repeat(43) }), 'invalid_grant'],
    ['a malformed verifier', () => ({ code_verifier: 'bad verifier!' }), 'invalid_grant'],
    ['another redirect URI', () => ({ redirect_uri: 'http://127.0.0.1:5555/other' }), 'invalid_grant'],
    ['another resource', () => ({ resource: 'https://other.example/mcp' }), 'invalid_target'],
  ])('refuses %s', async (_name, override, error) => {
    const { code, verifier } = await authorizeAs('alice');
    const response = await redeem(code, verifier, override(verifier) as Record<string, string>);
    expect(response.body.error).toBe(error);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a code presented by another client, and revokes its grant', async () => {
    const { code, verifier } = await authorizeAs('alice');
    const other = await registerPublicClient(demo.url, [REDIRECT]);
    const stolen = await redeem(code, verifier, { client_id: other.clientId });
    expect(stolen.body.error).toBe('invalid_grant');
    const owner = await redeem(code, verifier);
    expect(owner.body.error).toBe('invalid_grant');
  });

  it('refuses an unknown client and an unsupported grant type', async () => {
    const unknown = await tokenRequest(demo.url, {
      grant_type: 'authorization_code',
      client_id: 'rc_nobody',
      code: 'x',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe('invalid_client');
    const password = await tokenRequest(demo.url, { grant_type: 'password', client_id: clientId });
    expect(password.body.error).toBe('unsupported_grant_type');
  });

  it('refuses a repeated parameter and a JSON body', async () => {
    const repeated = await fetch(`${demo.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=authorization_code&client_id=${clientId}&client_id=${clientId}`,
    });
    expect(((await repeated.json()) as { error: string }).error).toBe('invalid_request');
    const json = await fetch(`${demo.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await json.json()) as { error: string }).error).toBe('invalid_request');
  });
});

describe('client metadata documents', () => {
  it('identifies a client by the document its https URL names, and runs the whole flow', async () => {
    const docClient = `${documentBase}/good.json`;
    const { verifier, challenge } = pkcePair();
    const page = await openConsentPage(demo.url, authorizeParams(challenge, { client_id: docClient }));
    expect(page.status).toBe(200);
    expect(page.html).toContain('Document client');
    const response = await submitConsent(demo.url, page, {
      username: 'alice',
      password: demo.passwords.alice as string,
      decision: 'approve',
    });
    const code = new URL(response.headers.get('location') as string).searchParams.get('code') as string;
    const tokens = await redeem(code, verifier, { client_id: docClient });
    expect(tokens.status).toBe(200);
    expect(await callEcho(tokens.body.access_token as string)).toBe(200);
  });

  it.each([
    ['lies about its own id', '/liar.json'],
    ['carries a client secret', '/secret.json'],
    ['does not exist', '/missing.json'],
  ])('refuses a document that %s, on a page', async (_name, path) => {
    const page = await openConsentPage(
      demo.url,
      authorizeParams(pkcePair().challenge, { client_id: `${documentBase}${path}` }),
    );
    expect(page.status).toBe(400);
    expect(page.headers.get('location')).toBeNull();
  });
});

describe('oversized bodies', () => {
  /** A chunked body (no Content-Length) of `bytes` bytes. */
  const chunked = (bytes: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < bytes; sent += 65_536)
          controller.enqueue(new Uint8Array(65_536).fill(0x61));
        controller.close();
      },
    });

  it.each([
    ['/oauth/register', 'application/json', 'invalid_client_metadata'],
    ['/oauth/token', 'application/x-www-form-urlencoded', 'invalid_request'],
  ])('refuses a 4 MiB chunked body at %s without reading it whole', async (path, type, error) => {
    const response = await fetch(`${demo.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type },
      body: chunked(4 * 1024 * 1024),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe(error);
  });
});

describe('dynamic client registration', () => {
  it.each([
    ['no redirect URIs', { redirect_uris: [] }],
    ['a non-loopback http URI', { redirect_uris: ['http://evil.example/cb'] }],
    ['a javascript: URI', { redirect_uris: ['javascript:alert(1)'] }],
    ['a fragment', { redirect_uris: ['https://app.example/cb#x'] }],
    ['an implicit grant', { grant_types: ['implicit'] }],
    ['a token response type', { response_types: ['token'] }],
  ])('refuses %s', async (_name, override) => {
    const response = await registerPublicClient(demo.url, ['https://app.example/cb'], override);
    expect(response.status).toBe(400);
    expect(String(response.body.error)).toMatch(/^invalid_(redirect_uri|client_metadata)$/);
  });

  it('gives a confidential client a secret, and authenticates it with client_secret_basic', async () => {
    const registered = await registerPublicClient(demo.url, [REDIRECT], {
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(registered.status).toBe(201);
    const secret = registered.body.client_secret as string;
    expect(secret).toMatch(/^rcs_/);
    const basic = `Basic ${Buffer.from(`${registered.clientId}:${secret}`).toString('base64')}`;
    const wrong = `Basic ${Buffer.from(`${registered.clientId}:nope`).toString('base64')}`;
    const bad = await tokenRequest(
      demo.url,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: wrong },
    );
    expect(bad.status).toBe(401);
    const ok = await tokenRequest(
      demo.url,
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: basic },
    );
    expect(ok.body.error).toBe('invalid_grant');
  });
});

describe('the audit trail', () => {
  it('records registrations, approvals, failed sign-ins, denials and revocations', async () => {
    await demo.rampart.audit?.flush();
    const { auditLogPath } = await import('../../src/audit/open.js');
    const { readFileSync } = await import('node:fs');
    const events = readFileSync(auditLogPath(demo.rampart.config), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; reason?: string });
    const seen = new Set(events.map((e) => e.event));
    for (const event of [
      'oauth.client.registered',
      'oauth.grant.approved',
      'oauth.login.failed',
      'oauth.grant.denied',
      'oauth.grant.revoked',
    ]) {
      expect(seen.has(event), event).toBe(true);
    }
    expect(events.some((e) => e.event === 'oauth.grant.revoked' && e.reason === 'refresh token reused')).toBe(
      true,
    );
    expect(JSON.stringify(events)).not.toContain(demo.passwords.alice as string);
  });
});
