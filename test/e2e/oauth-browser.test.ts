import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallbackRecorder, launchChromium, startCallbackRecorder } from '../helpers/browser.js';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';
import { authorizeUrl, pkcePair, registerPublicClient, tokenRequest } from '../helpers/oauth.js';

// A person approving an MCP client in a real browser: Debian's chromium, driven by playwright-core.
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

let demo: DemoServer;
let browser: Browser;
let callback: CallbackRecorder;
let callbackUrl: string;

beforeAll(async () => {
  demo = await startDemoServer({ oauth: { enabled: true } });
  // The client's redirect target: a loopback page that records what it was sent.
  callback = await startCallbackRecorder();
  callbackUrl = callback.url;
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await callback?.close();
  await demo?.stop();
});

async function startAuthorization(state: string) {
  const { clientId } = await registerPublicClient(demo.url, [callbackUrl], {
    client_name: 'Browser test client',
  });
  const { verifier, challenge } = pkcePair();
  const url = authorizeUrl(demo.url, {
    clientId,
    redirectUri: callbackUrl,
    challenge,
    state,
    resource: demo.mcpUrl,
    scope: 'mcp:read mcp:write',
  });
  return { clientId, verifier, url };
}

describe('the login and consent page in Chromium', () => {
  it('approves: signs in, lands on the client with a code that redeems', async () => {
    const { clientId, verifier, url } = await startAuthorization('browser-approve');
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await expect(page.locator('#client-name').textContent()).resolves.toBe('Browser test client');
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', demo.passwords.alice as string);
      await page.screenshot({ path: join(ARTIFACTS, 'consent-page.png'), fullPage: true });
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('#approve')]);
      await expect(page.locator('#done').isVisible()).resolves.toBe(true);
    } finally {
      await page.close();
    }
    const landed = callback.byState('browser-approve') as URL;
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
    expect(tokens.body.scope).toBe('mcp:read mcp:write');
  }, 30_000);

  it('denies: lands on the client with access_denied', async () => {
    const { url } = await startAuthorization('browser-deny');
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(callbackUrl)), page.click('#deny')]);
    } finally {
      await page.close();
    }
    const landed = callback.byState('browser-deny') as URL;
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.searchParams.get('code')).toBeNull();
  }, 30_000);

  it('shows a wrong password on the page and stays there', async () => {
    const { url } = await startAuthorization('browser-wrong');
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.fill('input[name="username"]', 'alice');
      await page.fill('input[name="password"]', 'not-the-password');
      await Promise.all([page.waitForLoadState(), page.click('#approve')]);
      await expect(page.locator('[role="alert"]').textContent()).resolves.toContain('Wrong user or password');
      expect(page.url().startsWith(demo.url)).toBe(true);
    } finally {
      await page.close();
    }
  }, 30_000);
});
