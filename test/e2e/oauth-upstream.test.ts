import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallbackRecorder, launchChromium, startCallbackRecorder } from '../helpers/browser.js';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';
import { modernRequest } from '../helpers/mcp.js';
import { freePort } from '../helpers/net.js';
import { authorizeUrl, pkcePair, registerPublicClient, tokenRequest } from '../helpers/oauth.js';

// Rampart in front of an upstream identity provider: a real, certified OpenID provider
// (oidc-provider) runs in this process; a person signs in there in Chromium. Rampart asks for
// consent per MCP client first, then issues its own audience-bound tokens mapped from the
// upstream identity (subject -> user id, groups -> roles -> scopes).
const UPSTREAM_SECRET = 'upstream-client-secret-for-tests-only-0123456789';

let demo: DemoServer;
let idp: Server;
let issuer: string;
let browser: Browser;
let callback: CallbackRecorder;
let callbackUrl: string;

beforeAll(async () => {
  const idpPort = await freePort();
  issuer = `http://127.0.0.1:${idpPort}`;
  process.env.RAMPART_TEST_UPSTREAM_SECRET = UPSTREAM_SECRET;
  demo = await startDemoServer({
    oauth: {
      enabled: true,
      upstream: {
        issuer,
        name: 'Test IdP',
        clientId: 'rampart',
        clientSecret: 'secret://env/RAMPART_TEST_UPSTREAM_SECRET',
        scopes: ['openid', 'email', 'groups'],
        groupsClaim: 'groups',
        roles: { 'mcp-admins': 'admin' },
      },
    },
  });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'rampart',
        client_secret: UPSTREAM_SECRET,
        redirect_uris: [`${demo.url}/oauth/upstream/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          email: `${id}@idp.example`,
          groups: id === 'carol' ? ['mcp-admins', 'staff'] : ['staff'],
        }),
      };
    },
    claims: { openid: ['sub'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'email', 'groups'],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
  });
  idp = createServer(provider.callback());
  await new Promise<void>((resolve) => idp.listen(idpPort, '127.0.0.1', resolve));

  callback = await startCallbackRecorder();
  callbackUrl = callback.url;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await callback?.close();
  idp?.closeAllConnections();
  await new Promise((resolve) => idp?.close(resolve));
  await demo?.stop();
});

async function authorization(state: string, scope: string) {
  const { clientId } = await registerPublicClient(demo.url, [callbackUrl], {
    client_name: 'Upstream test client',
  });
  const { verifier, challenge } = pkcePair();
  const url = authorizeUrl(demo.url, {
    clientId,
    redirectUri: callbackUrl,
    challenge,
    state,
    resource: demo.mcpUrl,
    scope: scope,
  });
  return { clientId, verifier, url };
}

describe('Rampart in front of an OpenID provider', () => {
  it('asks consent, signs in upstream, and issues its own token with mapped roles', async () => {
    const { clientId, verifier, url } = await authorization('up-1', 'mcp:read mcp:admin');
    const page = await browser.newPage();
    try {
      await page.goto(url);
      // Rampart's page: consent for this MCP client, no password field.
      expect(await page.locator('input[name="password"]').count()).toBe(0);
      await expect(page.locator('#approve').textContent()).resolves.toContain('Test IdP');
      await Promise.all([page.waitForURL((u) => u.href.startsWith(issuer)), page.click('#approve')]);
      // The provider's own login and consent pages.
      await page.fill('input[name="login"]', 'carol');
      await page.fill('input[name="password"]', 'anything');
      await Promise.all([page.waitForLoadState(), page.click('button[type="submit"]')]);
      if (!page.url().startsWith(callbackUrl)) {
        await Promise.all([
          page.waitForURL((u) => u.href.startsWith(callbackUrl)),
          page.click('button[type="submit"]'),
        ]);
      }
    } finally {
      await page.close();
    }
    const landed = callback.byState('up-1') as URL;
    expect(landed.searchParams.get('iss')).toBe(demo.url);
    const tokens = await tokenRequest(demo.url, {
      grant_type: 'authorization_code',
      code: landed.searchParams.get('code') as string,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: callbackUrl,
      resource: demo.mcpUrl,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body.scope).toBe('mcp:read mcp:admin');
    const access = tokens.body.access_token as string;
    const claims = JSON.parse(Buffer.from(access.split('.')[1] as string, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({ iss: demo.url, aud: demo.mcpUrl, sub: 'sso.carol', roles: ['admin'] });
    const whoami = await fetch(
      modernRequest(demo.mcpUrl, access, 'tools/call', { name: 'whoami', arguments: {} }),
    );
    expect(whoami.status).toBe(200);
    expect(await whoami.text()).toContain('sso.carol');
  }, 60_000);

  it('sends a denial back without ever visiting the provider', async () => {
    const { url } = await authorization('up-deny', 'mcp:read');
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('#deny')]);
    } finally {
      await page.close();
    }
    const landed = callback.byState('up-deny') as URL;
    expect(landed.searchParams.get('error')).toBe('access_denied');
  }, 30_000);

  it('refuses a callback with an unknown state, or from another browser', async () => {
    const unknown = await fetch(`${demo.url}/oauth/upstream/callback?state=forged&code=x`);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('location')).toBeNull();

    // Start a real sign-in, then present its callback without the browser's binding cookie.
    const { url } = await authorization('up-csrf', 'mcp:read');
    const pageResponse = await fetch(url);
    const html = await pageResponse.text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
    const cookie = (pageResponse.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const approve = await fetch(`${demo.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({
        request_id: field('request_id'),
        csrf: field('csrf'),
        decision: 'approve',
      }),
    });
    expect(approve.status).toBe(302);
    const upstreamUrl = new URL(approve.headers.get('location') as string);
    expect(upstreamUrl.origin).toBe(issuer);
    expect(upstreamUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const state = upstreamUrl.searchParams.get('state') as string;
    const stolen = await fetch(`${demo.url}/oauth/upstream/callback?state=${state}&code=x`, {
      redirect: 'manual',
    });
    expect(stolen.status).toBe(400);
    expect(await stolen.text()).toContain('another browser');
  });
});
