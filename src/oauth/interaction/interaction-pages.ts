/** Login, consent and failure pages of the interaction. */
import { html } from '../../ui/html.js';
import type { PageOptions } from '../../ui/layout.js';

export interface ConnectorChoice {
  id: string;
  name: string;
  type: string;
}

export function loginPage(uid: string, clientName: string, connectors: ConnectorChoice[]): PageOptions {
  const body = html`<h1>Sign in</h1>
<p>to continue to <strong>${clientName}</strong></p>
${
  connectors.length
    ? html`<ul class="connectors" aria-label="Ways to sign in">
${connectors.map(
  (c) =>
    html`<li><a class="button connector" data-connector="${c.id}" href="/interaction/${uid}/login/${encodeURIComponent(c.id)}"><span class="mark" aria-hidden="true">${initial(c.name)}</span><span>Sign in with ${c.name}</span></a></li>`,
)}
</ul>`
    : html`<p class="error" role="alert">No sign-in method is configured for this application.</p>`
}
<form class="secondary" method="post" action="/interaction/${uid}/abort"><button class="button subtle" type="submit">Cancel and go back</button></form>`;
  return { title: 'Sign in', body };
}

/** The first letter or digit of a connector's name, for its round mark on the login page. */
function initial(name: string): string {
  return (name.match(/[\p{L}\p{N}]/u)?.[0] ?? '•').toUpperCase();
}

export interface ConsentScope {
  scope: string;
  description?: string;
  claims: string[];
}

export function consentPage(uid: string, clientName: string, scopes: ConsentScope[], audience?: string): PageOptions {
  const body = html`<h1>Allow access?</h1>
<p><strong>${clientName}</strong> asks to:</p>
<ul class="scopes">
${scopes.map(
  (s) => html`<li><strong>${s.scope}</strong>${s.description ? html` — ${s.description}` : ''}${
    s.claims.length ? html`<div class="claims">shares: ${s.claims.join(', ')}</div>` : ''
  }</li>`,
)}
</ul>
${audience ? html`<p class="claims">for the API <code>${audience}</code></p>` : ''}
<form method="post" action="/interaction/${uid}/consent">
<div class="actions">
<button class="button" type="submit" name="decision" value="deny">Deny</button>
<button class="button primary" type="submit" name="decision" value="allow" autofocus>Allow</button>
</div>
</form>`;
  return { title: 'Allow access', body };
}

export function failurePage(message: string, continueUrl?: string, clientName?: string): PageOptions {
  const body = html`<h1>Sign-in failed</h1>
<p class="error" role="alert">${message}</p>
${
  continueUrl
    ? html`<div class="actions"><a class="button primary" id="continue" href="${continueUrl}">Return to ${clientName ?? 'the application'}</a></div>`
    : html`<p>Close this window and start the sign-in again from the application.</p>`
}`;
  return { title: 'Sign-in failed', body };
}
