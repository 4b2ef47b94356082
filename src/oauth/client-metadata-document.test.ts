import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createClientMetadataResolver,
  isClientMetadataDocumentId,
  validateClientMetadataDocument,
} from './client-metadata-document.js';
import { OAuthError } from './errors.js';

type Handler = (req: IncomingMessage, res: ServerResponse, id: string) => void;

const NOW = 1_750_000_000_000;
const json = { 'content-type': 'application/json' };
const serveJson =
  (document: (id: string) => unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res, id) =>
    res.writeHead(200, { ...json, ...headers }).end(JSON.stringify(document(id)));
const good = (id: string) => ({
  client_id: id,
  client_name: 'Example App',
  redirect_uris: ['https://app.example/callback', 'http://127.0.0.1/callback'],
});

let server: Server;
let base: string;
let port: number;
const routes = new Map<string, Handler>();
let requests: string[] = [];
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const route = routes.get(req.url ?? '');
    if (route) route(req, res, `${base}${req.url}`);
    else res.writeHead(404).end();
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  routes.clear();
  requests = [];
  connections = 0;
});

/** A resolver for the local test server; nothing is cached unless a test asks. */
function local(options: Parameters<typeof createClientMetadataResolver>[0] = {}) {
  return createClientMetadataResolver({
    dangerouslyAllowPrivateAddresses: true,
    cacheTtlSeconds: 0,
    timeoutMs: 2000,
    now: () => NOW,
    ...options,
  });
}

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => expect.fail('resolved, expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  expect(error).toMatchObject({ error: 'invalid_client', status: 401 });
  return error as OAuthError;
}

describe('resolve: a good document', () => {
  it('becomes a public metadata-document client', async () => {
    routes.set('/client.json', serveJson(good, { 'content-type': 'application/json; charset=utf-8' }));
    const client = await local().resolve(`${base}/client.json`);
    expect(client).toEqual({
      clientId: `${base}/client.json`,
      kind: 'metadata-document',
      redirectUris: ['https://app.example/callback', 'http://127.0.0.1/callback'],
      clientName: 'Example App',
      clientUri: undefined,
      logoUri: undefined,
      tokenEndpointAuthMethod: 'none',
      scope: undefined,
      grantTypes: ['authorization_code', 'refresh_token'],
      createdAt: NOW,
    });
    expect(requests).toEqual(['/client.json']);
  });

  it('keeps optional fields and accepts a private-use redirect scheme', async () => {
    routes.set(
      '/full.json',
      serveJson((id) => ({
        ...good(id),
        redirect_uris: ['com.example.app:/oauth2redirect'],
        client_uri: 'https://app.example',
        logo_uri: 'https://app.example/logo.png',
        scope: 'tools:read',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      })),
    );
    const client = await local().resolve(`${base}/full.json`);
    expect(client).toMatchObject({
      redirectUris: ['com.example.app:/oauth2redirect'],
      clientUri: 'https://app.example',
      logoUri: 'https://app.example/logo.png',
      scope: 'tools:read',
      grantTypes: ['authorization_code'],
    });
  });
});

describe('resolve: caching', () => {
  it('shares one fetch between concurrent resolves and caches the result', async () => {
    routes.set('/c.json', (req, res, id) => setTimeout(() => serveJson(good)(req, res, id), 50));
    const resolver = local({ cacheTtlSeconds: 300 });
    const id = `${base}/c.json`;
    const [a, b, c] = await Promise.all([resolver.resolve(id), resolver.resolve(id), resolver.resolve(id)]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    await resolver.resolve(id);
    expect(requests).toEqual(['/c.json']);
    resolver.clear();
    await resolver.resolve(id);
    expect(requests).toEqual(['/c.json', '/c.json']);
  });

  it('keeps a document for min(cacheTtlSeconds, max-age)', async () => {
    let now = NOW;
    routes.set('/short.json', serveJson(good, { 'cache-control': 'public, max-age=10' }));
    routes.set('/long.json', serveJson(good, { 'cache-control': 'max-age=86400' }));
    const resolver = local({ cacheTtlSeconds: 60, now: () => now });
    await resolver.resolve(`${base}/short.json`);
    await resolver.resolve(`${base}/long.json`);
    now += 9_000;
    await resolver.resolve(`${base}/short.json`);
    expect(requests).toEqual(['/short.json', '/long.json']);
    now += 2_000;
    await resolver.resolve(`${base}/short.json`);
    await resolver.resolve(`${base}/long.json`);
    expect(requests).toEqual(['/short.json', '/long.json', '/short.json']);
    now += 50_000;
    await resolver.resolve(`${base}/long.json`);
    expect(requests).toEqual(['/short.json', '/long.json', '/short.json', '/long.json']);
  });

  it.each(['no-store', 'no-cache', 'max-age=0', 'max-age=banana'])(
    'does not cache with Cache-Control: %s',
    async (cc) => {
      routes.set('/nc.json', serveJson(good, { 'cache-control': cc }));
      const resolver = local({ cacheTtlSeconds: 300 });
      await resolver.resolve(`${base}/nc.json`);
      await resolver.resolve(`${base}/nc.json`);
      expect(requests).toEqual(['/nc.json', '/nc.json']);
    },
  );

  it('remembers a failure for at most 30 seconds', async () => {
    let now = NOW;
    const resolver = local({ cacheTtlSeconds: 300, now: () => now });
    const id = `${base}/missing.json`;
    await refusal(resolver.resolve(id));
    await refusal(resolver.resolve(id));
    expect(requests).toEqual(['/missing.json']);
    now += 30_001;
    routes.set('/missing.json', serveJson(good));
    await expect(resolver.resolve(id)).resolves.toMatchObject({ clientId: id });
  });

  it('evicts the least recently used entry beyond maxCacheEntries', async () => {
    for (const path of ['/1.json', '/2.json', '/3.json']) routes.set(path, serveJson(good));
    const resolver = local({ cacheTtlSeconds: 300, maxCacheEntries: 2 });
    await resolver.resolve(`${base}/1.json`);
    await resolver.resolve(`${base}/2.json`);
    await resolver.resolve(`${base}/1.json`); // 1 is now the most recent
    await resolver.resolve(`${base}/3.json`); // evicts 2
    await resolver.resolve(`${base}/1.json`);
    await resolver.resolve(`${base}/2.json`);
    expect(requests).toEqual(['/1.json', '/2.json', '/3.json', '/2.json']);
  });
});

describe('resolve: refused responses', () => {
  const bigChunk = ' '.repeat(1024);

  it.each<[string, Handler, string]>([
    [
      'a document that names another client_id',
      serveJson((id) => ({ ...good(id), client_id: `${id}x` })),
      'the client metadata document names a different client_id',
    ],
    [
      'a redirect (302), even to a good document',
      (_req, res) => res.writeHead(302, { location: `${base}/client.json` }).end(),
      'the client metadata document URL redirects; redirects are not followed',
    ],
    [
      'a 404',
      (_req, res) => res.writeHead(404, json).end('{}'),
      'the client metadata document was not served with status 200',
    ],
    [
      'a 204',
      (_req, res) => res.writeHead(204).end(),
      'the client metadata document was not served with status 200',
    ],
    [
      'a text/plain content type',
      (_req, res, id) => res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(good(id))),
      'the client metadata document must be served as application/json',
    ],
    [
      'a missing content type',
      (_req, res, id) => res.writeHead(200).end(JSON.stringify(good(id))),
      'the client metadata document must be served as application/json',
    ],
    [
      'application/jsonp',
      (_req, res, id) =>
        res.writeHead(200, { 'content-type': 'application/jsonp' }).end(JSON.stringify(good(id))),
      'the client metadata document must be served as application/json',
    ],
    [
      'invalid JSON',
      (_req, res) => res.writeHead(200, json).end('{"client_id": '),
      'the client metadata document is not valid JSON',
    ],
    [
      'invalid UTF-8',
      (_req, res) => res.writeHead(200, json).end(Buffer.from([0x7b, 0xff, 0x7d])),
      'the client metadata document is not valid JSON',
    ],
    [
      'a JSON array',
      (_req, res) => res.writeHead(200, json).end('[]'),
      'the client metadata document must be a JSON object',
    ],
    [
      'a chunked body (no Content-Length) past the limit',
      (_req, res) => {
        res.writeHead(200, json);
        res.write('{"client_id":"');
        const timer = setInterval(() => {
          if (!res.write(bigChunk) || res.destroyed) clearInterval(timer);
        }, 1);
        res.on('close', () => clearInterval(timer));
      },
      'the client metadata document is too large',
    ],
    [
      'a declared Content-Length past the limit',
      (_req, res) => res.writeHead(200, { ...json, 'content-length': '100000' }).write('{'),
      'the client metadata document is too large',
    ],
  ])('refuses %s', async (_name, handler, description) => {
    routes.set('/doc.json', handler);
    const error = await refusal(local().resolve(`${base}/doc.json`));
    expect(error.message).toBe(description);
    // A redirect is not followed: only the document URL itself was asked for.
    expect(requests).toEqual(['/doc.json']);
  });

  it('stops reading at maxBytes', async () => {
    let sent = 0;
    routes.set('/huge.json', (_req, res) => {
      res.writeHead(200, json);
      const push = () => {
        while (sent < 10_000_000 && !res.destroyed) {
          sent += 16_384;
          if (!res.write(Buffer.alloc(16_384, 0x20))) return void res.once('drain', push);
        }
        res.end();
      };
      push();
    });
    const error = await refusal(local({ maxBytes: 5120 }).resolve(`${base}/huge.json`));
    expect(error.message).toBe('the client metadata document is too large');
    expect(sent).toBeLessThan(10_000_000);
  });

  it.each<[string, Handler]>([
    ['a server that never answers', () => {}],
    ['a server that never finishes the body', (_req, res) => res.writeHead(200, json).write('{"client_id":')],
  ])('gives up on %s within timeoutMs', async (_name, handler) => {
    routes.set('/slow.json', handler);
    const started = performance.now();
    const error = await refusal(local({ timeoutMs: 300 }).resolve(`${base}/slow.json`));
    const elapsed = performance.now() - started;
    expect(error.message).toBe('the client metadata document took too long to fetch');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
  });
});

describe('resolve: SSRF', () => {
  /** Resolves a public-looking name to the given address, recording each lookup. */
  const resolvingTo = (...addresses: string[]) =>
    vi.fn(async (_host: string) =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    );

  it.each([
    ['127.0.0.1'],
    ['10.0.0.1'],
    ['169.254.169.254'],
    ['::ffff:127.0.0.1'],
    ['::1'],
    ['fd00::1'],
    ['100.64.0.1'],
    ['93.184.215.14', '127.0.0.1'],
  ])('refuses a host resolving to %s before connecting', async (...addresses) => {
    routes.set('/client.json', serveJson(good));
    const lookup = resolvingTo(...addresses);
    // The test server's port: if the check were missing, the connection would land here.
    const id = `https://public.example:${port}/client.json`;
    const error = await refusal(createClientMetadataResolver({ lookup }).resolve(id));
    expect(error.message).toBe('the client metadata document host is not a public address');
    expect(lookup).toHaveBeenCalledWith('public.example');
    expect(connections).toBe(0);
    expect(requests).toEqual([]);
  });

  it.each([
    `https://127.0.0.1:PORT/client.json`,
    `https://[::1]:PORT/client.json`,
    `https://[::ffff:7f00:1]:PORT/client.json`,
    `https://169.254.169.254/latest/meta-data`,
  ])('refuses the IP literal in %s without DNS', async (template) => {
    const lookup = resolvingTo('93.184.215.14');
    const error = await refusal(
      createClientMetadataResolver({ lookup }).resolve(template.replace('PORT', String(port))),
    );
    expect(error.message).toBe('the client metadata document host is not a public address');
    expect(lookup).not.toHaveBeenCalled();
    expect(connections).toBe(0);
  });

  it('refuses http, and says so before any lookup', async () => {
    const lookup = resolvingTo('93.184.215.14');
    const error = await refusal(
      createClientMetadataResolver({ lookup }).resolve(`http://public.example:${port}/c.json`),
    );
    expect(error.message).toBe('the client id is not a valid client metadata document URL');
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses a host that does not resolve', async () => {
    const lookup = vi.fn(async () => Promise.reject(new Error('ENOTFOUND')));
    const error = await refusal(
      createClientMetadataResolver({ lookup }).resolve('https://nowhere.example/c.json'),
    );
    expect(error.message).toBe('the client metadata document host could not be resolved');
  });

  it('connects to the address it checked, not to a later DNS answer', async () => {
    routes.set(
      '/client.json',
      serveJson((id) => good(id.replace(base, `http://rebind.test:${port}`))),
    );
    const answers = ['127.0.0.1', '10.255.255.1'];
    const lookup = vi.fn(async () => [{ address: answers.shift() ?? '10.255.255.1', family: 4 as const }]);
    const id = `http://rebind.test:${port}/client.json`;
    const client = await local({ lookup }).resolve(id);
    expect(client.clientId).toBe(id);
    expect(lookup).toHaveBeenCalledTimes(1);
  });
});

describe('validateClientMetadataDocument', () => {
  const id = 'https://app.example/client.json';
  const valid = { client_id: id, redirect_uris: ['https://app.example/cb'] };

  it.each<[string, unknown, string]>([
    ['null', null, 'the client metadata document must be a JSON object'],
    ['a string', 'x', 'the client metadata document must be a JSON object'],
    [
      'no client_id',
      { redirect_uris: valid.redirect_uris },
      'the client metadata document names a different client_id',
    ],
    [
      'another client_id',
      { ...valid, client_id: `${id}/` },
      'the client metadata document names a different client_id',
    ],
    [
      'an inherited client_id',
      Object.assign(Object.create({ client_id: id }), { redirect_uris: valid.redirect_uris }),
      'the client metadata document names a different client_id',
    ],
    [
      'client_secret',
      { ...valid, client_secret: 's' },
      'a client metadata document must not contain a client secret',
    ],
    [
      'client_secret_expires_at',
      { ...valid, client_secret_expires_at: 0 },
      'a client metadata document must not contain a client secret',
    ],
    ...['private_key_jwt', 'client_secret_basic', 'client_secret_post', 7].map(
      (method) =>
        [
          `token_endpoint_auth_method ${method}`,
          { ...valid, token_endpoint_auth_method: method },
          'token_endpoint_auth_method must be none for a client metadata document',
        ] as [string, unknown, string],
    ),
    ['no redirect_uris', { client_id: id }, 'redirect_uris must list 1 to 10 URIs'],
    ['empty redirect_uris', { ...valid, redirect_uris: [] }, 'redirect_uris must list 1 to 10 URIs'],
    [
      'a redirect_uris string',
      { ...valid, redirect_uris: 'https://app.example/cb' },
      'redirect_uris must list 1 to 10 URIs',
    ],
    [
      '11 redirect URIs',
      { ...valid, redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example/${i}`) },
      'redirect_uris must list 1 to 10 URIs',
    ],
    ...[
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'http://app.example/cb',
      'https://app.example/cb#fragment',
      'https://user:pw@app.example/cb',
      '/relative',
      'myapp:/cb',
    ].map(
      (uri) =>
        [
          `redirect URI ${uri}`,
          { ...valid, redirect_uris: ['https://app.example/ok', uri] },
          'a redirect URI in the client metadata document is not allowed',
        ] as [string, unknown, string],
    ),
    [
      'a non-string redirect URI',
      { ...valid, redirect_uris: [42] },
      'a redirect URI in the client metadata document is not allowed',
    ],
    [
      'grant_types client_credentials',
      { ...valid, grant_types: ['authorization_code', 'client_credentials'] },
      'grant_types may hold only authorization_code and refresh_token',
    ],
    [
      'grant_types implicit',
      { ...valid, grant_types: ['implicit'] },
      'grant_types may hold only authorization_code and refresh_token',
    ],
    [
      'empty grant_types',
      { ...valid, grant_types: [] },
      'grant_types may hold only authorization_code and refresh_token',
    ],
    ['response_types token', { ...valid, response_types: ['token'] }, 'response_types may hold only code'],
    [
      'a 201-character client_name',
      { ...valid, client_name: 'a'.repeat(201) },
      'client_name must be a string of at most 200 characters',
    ],
    [
      'a numeric client_name',
      { ...valid, client_name: 5 },
      'client_name must be a string of at most 200 characters',
    ],
    [
      'an http logo_uri',
      { ...valid, logo_uri: 'http://app.example/logo.png' },
      'logo_uri must be an https URL',
    ],
    [
      'a javascript client_uri',
      { ...valid, client_uri: 'javascript:alert(1)' },
      'client_uri must be an https URL',
    ],
    ['a numeric scope', { ...valid, scope: 1 }, 'scope must be a string of at most 1000 characters'],
  ])('refuses %s', (_name, document, description) => {
    const error = (() => {
      try {
        validateClientMetadataDocument(id, document, NOW);
      } catch (e) {
        return e;
      }
      return expect.fail('accepted');
    })();
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_client', message: description });
  });

  it('accepts a 200-character client_name and never echoes document content in errors', () => {
    expect(
      validateClientMetadataDocument(id, { ...valid, client_name: 'a'.repeat(200) }, NOW).clientName,
    ).toHaveLength(200);
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.string({ minLength: 8 }),
        (extra, marker) => {
          const document = { ...extra, client_id: marker, redirect_uris: [marker], client_name: marker };
          try {
            validateClientMetadataDocument(id, document, NOW);
          } catch (e) {
            expect((e as Error).message).not.toContain(marker);
          }
        },
      ),
    );
  });
});

describe('isClientMetadataDocumentId', () => {
  it.each([
    'https://app.example/client.json',
    'https://app.example/oauth/client',
    'https://app.example:8443/client.json',
    'https://app.example/client.json?v=2',
    'https://93.184.215.14/client.json',
  ])('accepts %s', (id) => expect(isClientMetadataDocumentId(id)).toBe(true));

  it.each([
    ['http://app.example/client.json', 'http without allowHttp'],
    ['ftp://app.example/client.json', 'another scheme'],
    ['https://app.example/client.json#x', 'a fragment'],
    ['https://app.example/client.json#', 'an empty fragment'],
    ['https://user@app.example/client.json', 'a user name'],
    ['https://user:pw@app.example/client.json', 'user info'],
    ['https://:pw@app.example/client.json', 'a password'],
    ['https://app.example', 'no path'],
    ['https://app.example/', 'the root path'],
    ['https://app.example/?client', 'the root path with a query'],
    ['https://app.example/a/../client.json', 'a dot-dot segment'],
    ['https://app.example/./client.json', 'a dot segment'],
    ['https://app.example/a/%2e%2e/client.json', 'an encoded dot-dot segment'],
    ['https://app.example/a/.%2E/client.json', 'a half-encoded dot-dot segment'],
    ['https://app.example/client/..', 'a trailing dot-dot segment'],
    ['HTTPS://app.example/client.json', 'an upper-case scheme (not canonical)'],
    ['https://App.example/client.json', 'an upper-case host (not canonical)'],
    ['https://app.example:443/client.json', 'the default port written out (not canonical)'],
    ['https://app.example/client json', 'a raw space (not canonical)'],
    ['https://0x7f.1/client.json', 'an IPv4 address in hex (not canonical)'],
    ['https://[0:0:0:0:0:0:0:1]/client.json', 'an uncompressed IPv6 address (not canonical)'],
    ['https://app.example/client\\x.json', 'a backslash (not canonical)'],
    [' https://app.example/client.json', 'leading white space'],
    ['https://app.example/cli\tent.json', 'a tab the parser would drop'],
    ['https:app.example/client.json', 'no slashes'],
    ['//app.example/client.json', 'relative'],
    ['app.example/client.json', 'no scheme'],
    ['', 'empty'],
    [`https://app.example/${'a'.repeat(2030)}`, 'longer than 2048 characters'],
  ])('refuses %s (%s)', (id) => expect(isClientMetadataDocumentId(id)).toBe(false));

  it('accepts http only when allowed', () => {
    expect(isClientMetadataDocumentId('http://127.0.0.1:3000/client.json', true)).toBe(true);
    expect(isClientMetadataDocumentId('http://127.0.0.1:3000/client.json', false)).toBe(false);
    expect(isClientMetadataDocumentId('http://127.0.0.1:3000/', true)).toBe(false);
  });

  it('accepts only canonical https URLs with a path, whatever the string', () => {
    const candidates = fc.oneof(
      fc.string(),
      fc.webUrl({ withFragments: true, withQueryParameters: true }),
      fc.webUrl().map((u) => u.replace(/^http:/, 'https:')),
      fc.tuple(fc.webUrl(), fc.string()).map(([u, s]) => `${u.replace(/^http:/, 'https:')}/${s}`),
    );
    fc.assert(
      fc.property(candidates, fc.boolean(), (id, allowHttp) => {
        if (!isClientMetadataDocumentId(id, allowHttp)) return;
        expect(URL.canParse(id)).toBe(true);
        const url = new URL(id);
        expect(url.href).toBe(id);
        expect(allowHttp ? ['https:', 'http:'] : ['https:']).toContain(url.protocol);
        expect(id.startsWith(allowHttp ? 'http' : 'https://')).toBe(true);
        expect(url.hash + url.username + url.password).toBe('');
        expect(url.pathname).not.toBe('/');
        expect(id.length).toBeLessThanOrEqual(2048);
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts an http URL unless allowed', () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ['http'] }), (id) => {
        expect(isClientMetadataDocumentId(id)).toBe(false);
      }),
    );
  });

  it('accepts generated https URLs with a path (the property is not vacuous)', () => {
    const url = fc
      .tuple(fc.domain(), fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 4 }))
      .map(([host, segments]) => `https://${host}/${segments.join('/')}`);
    fc.assert(
      fc.property(url, (id) => {
        expect(isClientMetadataDocumentId(id)).toBe(new URL(id).href === id);
      }),
    );
  });
});
