import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../helpers/demo-server.js';
import { modernRequest } from '../helpers/mcp.js';

const ISS = 'https://idp.example';
const dir = mkdtempSync(join(tmpdir(), 'rampart-jwt-'));
let server: DemoServer;
let keys: Awaited<ReturnType<typeof generateKeyPair>>;
let audience: string;

beforeAll(async () => {
  keys = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256' };
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  server = await startDemoServer({
    auth: {
      jwt: {
        issuers: [
          { issuer: ISS, jwksFile: join(dir, 'jwks.json'), algorithms: ['ES256'], rolesClaim: 'roles' },
        ],
      },
    },
  });
  audience = server.rampart.resourceUrl;
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const now = () => Math.floor(Date.now() / 1000);
function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return new SignJWT({
    iss: ISS,
    aud: audience,
    sub: 'alice',
    scope: 'mcp:read',
    iat: now(),
    exp: now() + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header } as never)
    .sign(keys.privateKey);
}
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('JWT access tokens over the wire', () => {
  it('authenticates a valid token and maps scopes and roles', async () => {
    const res = await fetch(
      modernRequest(server.mcpUrl, await token({ roles: ['admin'] }), 'tools/call', {
        name: 'whoami',
        arguments: {},
      }),
    );
    expect(res.status).toBe(200);
    const { result } = await res.json();
    expect(result.structuredContent).toMatchObject({
      subject: 'alice',
      issuer: ISS,
      authMethod: 'jwt',
      roles: ['admin'],
    });
  });

  it('protects the resource metadata with the issuer as authorization server', async () => {
    const meta = await (await fetch(server.rampart.resourceMetadataUrl)).json();
    expect(meta.authorization_servers).toEqual([ISS]);
  });

  const hostile: Array<[string, () => Promise<string>]> = [
    ['expired', () => token({ exp: now() - 120 })],
    ['wrong audience', () => token({ aud: 'https://other.example/mcp' })],
    ['audience of another path', () => token({ aud: `${audience}/admin` })],
    ['wrong issuer', () => token({ iss: 'https://evil.example' })],
    ['not yet valid', () => token({ nbf: now() + 600 })],
    [
      'forged signature',
      async () => {
        const other = await generateKeyPair('ES256');
        return new SignJWT({ iss: ISS, aud: audience, sub: 'alice', scope: 'mcp:admin', exp: now() + 300 })
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
          .sign(other.privateKey);
      },
    ],
    [
      'alg none',
      async () =>
        `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: ISS, aud: audience, sub: 'alice', exp: now() + 300 })}.`,
    ],
    [
      'HS256 with the public key as secret',
      async () => {
        const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${b64({ iss: ISS, aud: audience, sub: 'a', exp: now() + 300 })}`;
        return `${input}.${createHmac('sha256', await exportSPKI(keys.publicKey))
          .update(input)
          .digest('base64url')}`;
      },
    ],
    ['typ JWT (an ID token, not an access token)', () => token({}, { typ: 'JWT' })],
  ];

  it.each(hostile)('refuses a %s token with 401 invalid_token', async (_name, make) => {
    const res = await fetch(modernRequest(server.mcpUrl, await make(), 'tools/list'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const body = await res.json();
    expect(body.error.data.code).toBe('ERR_AUTH_INVALID_TOKEN');
  });

  it('challenges a read-only token for write scope on a write tool', async () => {
    const res = await fetch(
      modernRequest(server.mcpUrl, await token(), 'tools/call', {
        name: 'delete_item',
        arguments: { table: 'orders', id: 1 },
      }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="mcp:write"');
  });

  it('refuses an admin-scoped token whose user lacks the admin role', async () => {
    const res = await fetch(
      modernRequest(server.mcpUrl, await token({ scope: 'mcp:admin' }), 'tools/call', {
        name: 'purge_all',
        arguments: { table: 'orders', confirm: true },
      }),
    );
    expect(res.status).toBe(403);
    expect((await res.json()).error.data.code).toBe('ERR_AUTHZ_FORBIDDEN');
  });
});
