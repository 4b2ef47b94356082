import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedV2,
} from '@modelcontextprotocol/client';
import { UnauthorizedError as UnauthorizedV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';
import { openConsentPage, submitConsent } from '../helpers/oauth.js';

// The official SDK clients run the whole OAuth dance against the demo: discovery from the 401,
// registration, authorize (approved by a script posting the login form), token, a tool call,
// and a refresh when the access token stops working.
const REDIRECT = 'http://127.0.0.1:7777/callback';

let demo: DemoServer;
beforeAll(async () => {
  demo = await startDemoServer({ oauth: { enabled: true } });
}, 30_000);
afterAll(() => demo?.stop());

/** An in-memory OAuthClientProvider, the shape both SDK versions accept. */
function memoryProvider() {
  const store: Record<string, unknown> = {};
  return {
    store,
    authUrl: undefined as URL | undefined,
    get redirectUrl() {
      return REDIRECT;
    },
    get clientMetadata() {
      return {
        client_name: 'SDK test client',
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      };
    },
    state() {
      store.state = `st-${Math.random().toString(36).slice(2)}`;
      return store.state as string;
    },
    clientInformation: () => store.client as never,
    saveClientInformation(info: unknown) {
      store.client = info;
    },
    tokens: () => store.tokens as never,
    saveTokens(tokens: unknown) {
      store.tokens = tokens;
    },
    saveCodeVerifier(verifier: string) {
      store.verifier = verifier;
    },
    codeVerifier: () => store.verifier as string,
    saveDiscoveryState(state: unknown) {
      store.discovery = state;
    },
    discoveryState: () => store.discovery as never,
    redirectToAuthorization(url: URL) {
      this.authUrl = url;
    },
    invalidateCredentials(scope: string) {
      if (scope === 'all' || scope === 'tokens') delete store.tokens;
      if (scope === 'all' || scope === 'client') delete store.client;
    },
  };
}

/** What a person does in the browser: open the page, sign in as alice, approve. */
async function approveInBrowser(authUrl: URL): Promise<URLSearchParams> {
  expect(authUrl.origin).toBe(demo.url);
  const page = await openConsentPage(demo.url, Object.fromEntries(authUrl.searchParams));
  expect(page.status).toBe(200);
  const response = await submitConsent(demo.url, page, {
    username: 'alice',
    password: demo.passwords.alice as string,
    decision: 'approve',
  });
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') as string).searchParams;
}

/**
 * A tool call with the fresh token; then the access token stops working, and the client must
 * refresh (rotating the refresh token) and retry. Closes the client.
 */
async function callThenRefresh(
  client: {
    callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
    close(): Promise<void>;
  },
  provider: ReturnType<typeof memoryProvider>,
): Promise<void> {
  try {
    const result = await client.callTool({ name: 'list_items', arguments: { table: 'orders' } });
    expect((result as { isError?: unknown }).isError).toBeFalsy();
    const before = provider.store.tokens as { refresh_token: string; access_token: string };
    provider.store.tokens = { ...before, access_token: 'not-a-token' };
    const again = await client.callTool({ name: 'list_items', arguments: { table: 'orders' } });
    expect((again as { isError?: unknown }).isError).toBeFalsy();
    const after = provider.store.tokens as { refresh_token: string; access_token: string };
    expect(after.refresh_token).not.toBe(before.refresh_token);
  } finally {
    await client.close();
  }
}

describe('SDK v2 client (2026-07-28)', () => {
  it('discovers, registers, authorizes, calls a tool and refreshes', async () => {
    const provider = memoryProvider();
    const url = new URL(demo.mcpUrl);
    const first = new TransportV2(url, { authProvider: provider });
    await expect(new ClientV2({ name: 'sdk-v2', version: '1' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedV2,
    );
    const authUrl = provider.authUrl as URL;
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('resource')).toBe(demo.mcpUrl);

    const callback = await approveInBrowser(authUrl);
    expect(callback.get('state')).toBe(provider.store.state);
    expect(callback.get('iss')).toBe(demo.url);
    await first.finishAuth(callback);

    const client = new ClientV2({ name: 'sdk-v2', version: '1' });
    await client.connect(new TransportV2(url, { authProvider: provider }));
    await callThenRefresh(client, provider);
  }, 30_000);
});

describe('SDK v1 client (2025 era)', () => {
  it('discovers, registers, authorizes, calls a tool and refreshes', async () => {
    const provider = memoryProvider();
    const url = new URL(demo.mcpUrl);
    const first = new TransportV1(url, { authProvider: provider });
    await expect(new ClientV1({ name: 'sdk-v1', version: '1' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedV1,
    );
    const callback = await approveInBrowser(provider.authUrl as URL);
    expect(callback.get('state')).toBe(provider.store.state);
    await first.finishAuth(callback.get('code') as string);

    const client = new ClientV1({ name: 'sdk-v1', version: '1' });
    await client.connect(new TransportV1(url, { authProvider: provider }));
    await callThenRefresh(client, provider);
  }, 30_000);
});
