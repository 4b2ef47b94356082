import { describe, expect, it } from 'vitest';
import { OAuthError } from './errors.js';
import { createUpstream, mapIdentity } from './upstream.js';

const mapping = {
  subjectClaim: 'sub',
  groupsClaim: 'groups',
  roles: { admins: 'admin' },
  userIdPrefix: 'sso.',
};

describe('mapIdentity', () => {
  it('prefixes the subject and maps listed groups to roles', () => {
    expect(mapIdentity({ sub: 'u-1', groups: ['admins', 'staff'] }, mapping)).toEqual({
      userId: 'sso.u-1',
      roles: ['admin'],
      email: undefined,
    });
    expect(mapIdentity({ sub: 'u-1', groups: 'staff admins' }, mapping).roles).toEqual(['admin']);
    expect(mapIdentity({ sub: 'u-1' }, mapping).roles).toEqual([]);
  });

  it('names a subject that does not fit a user id by its hash, never by a lossy rewrite', () => {
    const a = mapIdentity({ sub: 'auth0|123' }, mapping).userId;
    const b = mapIdentity({ sub: 'auth0_123' }, mapping).userId;
    expect(a).toMatch(/^sso\.[A-Za-z0-9_-]{32}$/);
    expect(b).toBe('sso.auth0_123');
    expect(a).not.toBe(b);
  });

  it('ignores a groups claim of the wrong type and inherited names', () => {
    expect(mapIdentity({ sub: 'u', groups: { admins: true } }, mapping).roles).toEqual([]);
    expect(mapIdentity({ sub: 'u', groups: ['constructor', '__proto__'] }, mapping).roles).toEqual([]);
  });

  it('refuses an identity without a subject', () => {
    expect(() => mapIdentity({ email: 'x@y' }, mapping)).toThrow(OAuthError);
  });
});

describe('discovery', () => {
  const options = (fetchImpl: typeof fetch) => ({
    issuer: 'https://idp.example',
    clientId: 'rampart',
    clientSecret: 's',
    name: 'IdP',
    scopes: ['openid'],
    ...mapping,
    fetch: fetchImpl,
  });

  it('refuses a document that names another issuer, or is too big, as unavailable', async () => {
    const lying = createUpstream(
      options(async () =>
        Response.json({
          issuer: 'https://evil.example',
          authorization_endpoint: 'https://evil.example/a',
          token_endpoint: 'https://evil.example/t',
          jwks_uri: 'https://evil.example/j',
        }),
      ),
    );
    await expect(lying.start('https://rampart.example/cb')).rejects.toMatchObject({
      error: 'temporarily_unavailable',
    });
    const huge = createUpstream(options(async () => new Response('x'.repeat(300 * 1024))));
    await expect(huge.start('https://rampart.example/cb')).rejects.toMatchObject({
      error: 'temporarily_unavailable',
    });
  });

  it('starts a sign-in with PKCE S256, a nonce and a state', async () => {
    const upstream = createUpstream(
      options(async () =>
        Response.json({
          issuer: 'https://idp.example',
          authorization_endpoint: 'https://login.idp.example/authorize',
          token_endpoint: 'https://idp.example/token',
          jwks_uri: 'https://idp.example/jwks',
        }),
      ),
    );
    const started = await upstream.start('https://rampart.example/oauth/upstream/callback');
    const url = new URL(started.url);
    expect(url.origin).toBe('https://login.idp.example');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('nonce')).toBe(started.nonce);
    expect(url.searchParams.get('state')).toBe(started.state);
    expect(await upstream.authorizationOrigin()).toBe('https://login.idp.example');
  });
});
