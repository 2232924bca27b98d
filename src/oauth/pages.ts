/** Pages oidc-provider renders itself (errors, logout), in Herald's frame. */
import type { HeraldConfig } from '../config/config.schema.js';
import { html, raw } from '../ui/html.js';
import { renderPage, type Theme } from '../ui/layout.js';

export function themeOf(config: HeraldConfig): Theme {
  return { title: config.ui.title, primaryColor: config.ui.primaryColor, hasLogo: !!config.ui.logoFile, hasCustomCss: !!config.ui.cssFile };
}

/** Generic error page: the OAuth error code and a generic description, never internals. */
export function renderErrorPage(config: HeraldConfig, out: Record<string, string>, _error: unknown): string {
  const body = html`<h1>Sign-in could not continue</h1>
<p class="error" role="alert">${out.error_description ?? 'The request could not be processed.'}</p>
<p>Error code: <code>${out.error ?? 'server_error'}</code></p>
<p>Return to the application and try again.</p>`;
  return renderPage(themeOf(config), { title: 'Error', body }).html;
}

export function renderLogoutPage(config: HeraldConfig, form: string): string {
  // `form` is oidc-provider's hidden form (id op.logoutForm) carrying its XSRF token.
  const body = html`<h1>Sign out?</h1>
<p>You are about to sign out of ${config.ui.title}.</p>
${raw(form)}
<div class="actions">
<button class="button primary" type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button class="button" type="submit" form="op.logoutForm">Stay signed in</button>
</div>`;
  return renderPage(themeOf(config), { title: 'Sign out', body }).html;
}

export function renderLogoutSuccessPage(config: HeraldConfig): string {
  const body = html`<h1>You are signed out</h1><p>You can close this window.</p>`;
  return renderPage(themeOf(config), { title: 'Signed out', body }).html;
}
