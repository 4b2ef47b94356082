/** HTML escaping for text and attribute values: the five characters that can change meaning. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the login and consent page shows. Every string is escaped when rendered. */
export interface ConsentView {
  readonly requestId: string;
  readonly csrf: string;
  readonly clientName: string;
  readonly clientId: string;
  readonly redirectHost: string;
  /** True when every redirect URI is on this machine (the spec asks to warn about that). */
  readonly loopbackOnly: boolean;
  readonly scopes: readonly { readonly name: string; readonly description: string }[];
  readonly resource: string;
  readonly error?: string | undefined;
  readonly username?: string | undefined;
  /** Sign-in happens at this identity provider: the page only asks for consent. */
  readonly upstreamName?: string | undefined;
}

/**
 * The login and consent page: one form, sign in and approve, or deny. No script, no external
 * resource; the inline style is allowed by its hash in the page's CSP.
 */
export function renderConsentPage(view: ConsentView): string {
  const e = escapeHtml;
  const scopes = view.scopes.map((s) => `<li><code>${e(s.name)}</code> ${e(s.description)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in to approve ${e(view.clientName)}</title>
<style>${PAGE_STYLE}</style></head>
<body><main>
<h1>Sign in to approve access</h1>
<p><strong id="client-name">${e(view.clientName)}</strong> wants to use <code>${e(view.resource)}</code> on your behalf.</p>
<p>After you decide, you will be sent to <strong id="redirect-host">${e(view.redirectHost)}</strong>.${
    view.loopbackOnly
      ? ' <span class="warn">This client runs on your own computer (a loopback address): approve only if you started it.</span>'
      : ''
  }</p>
<p>Client id: <code>${e(view.clientId)}</code></p>
<h2>It asks for</h2><ul id="scopes">${scopes}</ul>
${view.error ? `<p class="error" role="alert">${e(view.error)}</p>` : ''}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request_id" value="${e(view.requestId)}">
<input type="hidden" name="csrf" value="${e(view.csrf)}">
${
  view.upstreamName
    ? `<p>You will sign in with <strong>${e(view.upstreamName)}</strong>.</p>`
    : `<label>User <input name="username" autocomplete="username" required value="${e(view.username ?? '')}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>`
}
<div class="actions">
<button type="submit" name="decision" value="approve" id="approve">${
    view.upstreamName ? `Approve and continue with ${e(view.upstreamName)}` : 'Sign in and approve'
  }</button>
<button type="submit" name="decision" value="deny" id="deny" formnovalidate>Deny</button>
</div></form></main></body></html>`;
}

/** A page that explains a request that cannot be sent back to its client. */
export function renderErrorPage(title: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(message)}</p></main></body></html>`;
}

export const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}main{max-width:32rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.5rem;box-sizing:border-box}.actions{display:flex;gap:1rem;margin-top:1rem}button{padding:.6rem 1rem}.error{color:#a00}.warn{color:#8a5a00}code{word-break:break-all}';
