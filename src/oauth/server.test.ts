import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../stores/migrations.js';
import type { RampartDb } from '../stores/schema.js';
import { openSqlite } from '../stores/sqlite.js';
import { type AuthorizationServer, createAuthorizationServer } from './server.js';
import { setUserPassword } from './users.js';

// The authorization server without a socket (Hono's app.request), on a clock the test moves.
const ISSUER = 'http://127.0.0.1:9999';
const RESOURCE = `${ISSUER}/mcp`;
const REDIRECT = 'http://127.0.0.1:5555/cb';
let clock = 1_700_000_000_000;
let db: Kysely<RampartDb>;
let server: AuthorizationServer;

beforeAll(async () => {
  db = openSqlite(':memory:');
  await migrateToLatest(db);
  await db
    .insertInto('rampart_users')
    .values({ id: 'alice', roles: '[]', created_at: 0, password_hash: null })
    .execute();
  await setUserPassword(db, 'alice', 'alice-password');
  server = await createAuthorizationServer({
    issuer: ISSUER,
    resource: RESOURCE,
    db,
    logger: pino({ level: 'silent' }),
    knownScopes: ['mcp:read', 'mcp:write', 'mcp:admin'],
    scopePolicy: { default: ['mcp:read'], byRole: {} },
    accessTokenTtlSeconds: 600,
    refreshTokenTtlSeconds: 3600,
    codeTtlSeconds: 60,
    baseHeaders: {},
    preRegistered: [
      {
        clientId: 'app',
        kind: 'pre-registered',
        redirectUris: [REDIRECT],
        tokenEndpointAuthMethod: 'none',
        grantTypes: ['authorization_code', 'refresh_token'],
        createdAt: 0,
      },
    ],
    registration: { enabled: false, rate: '10/hour' },
    trustedProxies: [],
    now: () => clock,
  });
});
afterAll(async () => {
  server.close();
  await db.destroy();
});

/** GETs the consent page for `challenge`; returns what posting its form needs. */
async function openPage(challenge: string, extra: Record<string, string> = {}) {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'app',
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'mcp:read',
    ...extra,
  });
  const page = await server.app.request(`${ISSUER}/oauth/authorize?${query}`);
  const html = await page.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  return {
    requestId: field('request_id'),
    csrf: field('csrf'),
    cookie: (page.headers.get('set-cookie') ?? '').split(';')[0] as string,
  };
}

/** Posts a consent page's form as alice (with her password unless denying). */
function postForm(page: Awaited<ReturnType<typeof openPage>>, decision: 'approve' | 'deny') {
  return server.app.request(`${ISSUER}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie },
    body: new URLSearchParams({
      request_id: page.requestId,
      csrf: page.csrf,
      ...(decision === 'approve' ? { username: 'alice', password: 'alice-password' } : {}),
      decision,
    }).toString(),
  });
}

async function code(): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const page = await openPage(createHash('sha256').update(verifier).digest('base64url'));
  const decision = await postForm(page, 'approve');
  const location = new URL(decision.headers.get('location') as string);
  return { code: location.searchParams.get('code') as string, verifier };
}

async function token(form: Record<string, string>) {
  const response = await server.app.request(`${ISSUER}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'app', ...form }).toString(),
  });
  return (await response.json()) as Record<string, string>;
}

describe('lifetimes', () => {
  it('refuses a code one second after its lifetime, and accepts it just before', async () => {
    const late = await code();
    clock += 61_000;
    const refused = await token({
      grant_type: 'authorization_code',
      code: late.code,
      code_verifier: late.verifier,
      redirect_uri: REDIRECT,
    });
    expect(refused.error).toBe('invalid_grant');

    const timely = await code();
    clock += 59_000;
    const issued = await token({
      grant_type: 'authorization_code',
      code: timely.code,
      code_verifier: timely.verifier,
      redirect_uri: REDIRECT,
    });
    expect(issued.token_type).toBe('Bearer');
  });

  it('refuses a refresh token after its lifetime', async () => {
    const c = await code();
    const issued = await token({
      grant_type: 'authorization_code',
      code: c.code,
      code_verifier: c.verifier,
      redirect_uri: REDIRECT,
    });
    clock += 3_601_000;
    const refused = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.refresh_token as string,
    });
    expect(refused.error).toBe('invalid_grant');
  });

  it('expires the consent page after ten minutes', async () => {
    const page = await openPage('a'.repeat(43));
    clock += 601_000;
    const late = await postForm(page, 'deny');
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('expired');
  });
});

describe('the audit trail fails closed', () => {
  it('issues no code when the approval cannot be recorded', async () => {
    const saved = server.audit;
    server.audit = async () => {
      throw new Error('disk full');
    };
    try {
      const page = await openPage('a'.repeat(43), { state: 's1' });
      const decision = await postForm(page, 'approve');
      const location = new URL(decision.headers.get('location') as string);
      expect(location.searchParams.get('error')).toBe('temporarily_unavailable');
      expect(location.searchParams.get('code')).toBeNull();
      expect(location.searchParams.get('state')).toBe('s1');
    } finally {
      server.audit = saved;
    }
  });
});
