/** Renders pages in Herald's theme and serves them with the security headers. */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Response } from 'express';
import type { LoadedConfig } from '../config/config.loader.js';
import { html } from './html.js';
import { newNonce, renderPage, themeCss, type PageOptions, type RenderedPage, type Theme } from './layout.js';

export class UiService {
  readonly theme: Theme;
  readonly css: string;
  readonly logo: { type: string; body: Buffer } | undefined;

  constructor(loaded: LoadedConfig) {
    const { ui } = loaded.config;
    this.theme = { title: ui.title, primaryColor: ui.primaryColor, hasLogo: !!ui.logoFile, hasCustomCss: !!ui.cssFile };
    const read = (file: string) => {
      const path = resolve(loaded.configDir, file);
      if (!existsSync(path)) throw new Error(`ui: file not found: ${path}`);
      return readFileSync(path);
    };
    this.css = themeCss(ui.primaryColor, ui.cssFile ? read(ui.cssFile).toString('utf8') : undefined);
    this.logo = ui.logoFile
      ? { type: extname(ui.logoFile).toLowerCase() === '.svg' ? 'image/svg+xml' : 'image/png', body: read(ui.logoFile) }
      : undefined;
  }

  page(options: PageOptions): RenderedPage {
    return renderPage(this.theme, options);
  }

  send(res: Response, status: number, options: PageOptions): void {
    const page = this.page(options);
    res.status(status).set(page.headers).send(page.html);
  }

  /** An auto-submitting form to an upstream (SAML HTTP-POST binding), with a no-script fallback button. */
  sendAutoPost(res: Response, url: string, fields: Record<string, string>): void {
    const nonce = newNonce();
    const body = html`<h1>Continuing to your identity provider…</h1>
<form id="autopost" method="post" action="${url}">
${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<noscript><button class="button primary" type="submit">Continue</button></noscript>
</form>
<script nonce="${nonce}">document.getElementById('autopost').submit();</script>`;
    const page = this.page({ title: 'Redirecting', body, nonce });
    res.status(200).set(page.headers).send(page.html);
  }
}
