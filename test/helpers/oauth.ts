import { createHash, randomBytes } from 'node:crypto';

/** A PKCE pair (RFC 7636, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Registers a public client by RFC 7591. */
export async function registerPublicClient(
  baseUrl: string,
  redirectUris: string[] = ['http://127.0.0.1:5555/callback'],
  extra: Record<string, unknown> = {},
): Promise<{ clientId: string; body: Record<string, unknown>; status: number }> {
  const response = await fetch(`${baseUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Test client', redirect_uris: redirectUris, ...extra }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  return { clientId: String(body.client_id), body, status: response.status };
}

/** The hidden fields and cookie of a login and consent page. */
export interface ConsentPage {
  readonly status: number;
  readonly html: string;
  readonly requestId: string;
  readonly csrf: string;
  readonly cookie: string;
  readonly headers: Headers;
}

/** GETs /oauth/authorize and reads the consent page it shows. */
export async function openConsentPage(baseUrl: string, params: Record<string, string>): Promise<ConsentPage> {
  const url = new URL(`${baseUrl}/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const response = await fetch(url, { redirect: 'manual' });
  const html = await response.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  return {
    status: response.status,
    html,
    requestId: field('request_id'),
    csrf: field('csrf'),
    cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
    headers: response.headers,
  };
}

/** Posts the consent form; returns the response (a 302 back to the client, or a page). */
export async function submitConsent(
  baseUrl: string,
  page: ConsentPage,
  fields: {
    username?: string;
    password?: string;
    decision: 'approve' | 'deny';
    csrf?: string;
    cookie?: string;
  },
): Promise<Response> {
  return fetch(`${baseUrl}/oauth/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: fields.cookie ?? page.cookie },
    body: new URLSearchParams({
      request_id: page.requestId,
      csrf: fields.csrf ?? page.csrf,
      username: fields.username ?? '',
      password: fields.password ?? '',
      decision: fields.decision,
    }),
  });
}

/** POSTs a form to the token endpoint. */
export async function tokenRequest(
  baseUrl: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

/** The /oauth/authorize URL a client builds (S256 PKCE, resource = the MCP URI). */
export function authorizeUrl(
  baseUrl: string,
  params: {
    clientId: string;
    redirectUri: string;
    challenge: string;
    state: string;
    resource: string;
    scope: string;
  },
): string {
  const url = new URL(`${baseUrl}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: params.clientId,
    redirect_uri: params.redirectUri,
    code_challenge: params.challenge,
    code_challenge_method: 'S256',
    state: params.state,
    resource: params.resource,
    scope: params.scope,
  }).toString();
  return url.href;
}
