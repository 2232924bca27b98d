/**
 * /demo: a development-only demo application served by Herald itself. It signs in through
 * Herald like any client would (client `demo`, redirect URI /demo/callback) and shows the
 * decoded ID and access tokens. Outside development mode every /demo route is a 404.
 * Pages are server-rendered with every value escaped and no script (CSP script-src 'none').
 */
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import type { HeraldConfig } from '../config/config.schema.js';
import { DatabaseFlowStateStore } from '../connectors/flow-state.store.js';
import { html } from '../ui/html.js';
import { UiService } from '../ui/ui.service.js';
import { DemoClient, DemoError, type DecodedJwt, type DemoResult } from './demo-client.js';

export const DEMO_CLIENT_ID = 'demo';
const COOKIE = 'herald_demo';

@Controller('demo')
export class DemoController {
  private readonly config: HeraldConfig;
  private readonly client: DemoClient | undefined;

  constructor(
    @Inject(LOADED_CONFIG) loaded: LoadedConfig,
    flows: DatabaseFlowStateStore,
    private readonly ui: UiService,
  ) {
    this.config = loaded.config;
    const client = this.config.clients.find((c) => c.id === DEMO_CLIENT_ID);
    this.client = client ? new DemoClient(this.config.issuer, client, flows.scoped('demo')) : undefined;
  }

  @Get()
  home(@Res() res: Response): void {
    if (!this.enabled(res)) return;
    if (!this.client) return this.problem(res, 404, `There is no client "${DEMO_CLIENT_ID}" in the configuration. Add one with the redirect URI ${this.config.issuer}/demo/callback (see docs/getting-started.md).`);
    const body = html`<h1>Herald demo app</h1>
<p>This page plays an ordinary web application that signs its users in through Herald with OpenID Connect. It exists only in development mode.</p>
<dl class="facts">
<dt>Authorization server</dt><dd>${this.config.issuer}</dd>
<dt>Client id</dt><dd>${DEMO_CLIENT_ID}</dd>
<dt>Redirect URI</dt><dd>${this.client.redirectUri}</dd>
<dt>Scopes</dt><dd>${this.scope()}</dd>
<dt>Connectors</dt><dd>${this.config.connectors.map((c) => c.name).join(', ') || 'none configured'}</dd>
</dl>
<div class="actions"><a class="button primary" href="/demo/login">Sign in through Herald</a></div>`;
    this.ui.send(res, 200, { title: 'Demo app', body });
  }

  @Get('login')
  async login(@Res() res: Response): Promise<void> {
    if (!this.enabled(res) || !this.client) return this.notConfigured(res);
    try {
      const { url, state } = await this.client.start(this.scope());
      res.append('set-cookie', `${COOKIE}=${state}; Path=/demo/; Max-Age=600; HttpOnly; SameSite=Lax${this.secure()}`);
      res.status(303).setHeader('location', url).setHeader('cache-control', 'no-store').end();
    } catch (error) {
      this.problem(res, 503, `Herald's discovery document could not be read at ${this.config.issuer} (${describe(error)}). Is the issuer URL reachable from Herald itself?`);
    }
  }

  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.enabled(res) || !this.client) return this.notConfigured(res);
    res.append('set-cookie', `${COOKIE}=; Path=/demo/; Max-Age=0; HttpOnly; SameSite=Lax${this.secure()}`);
    const error = typeof req.query.error === 'string' ? req.query.error : undefined;
    if (error) {
      const description = typeof req.query.error_description === 'string' ? req.query.error_description : '';
      return this.problem(res, 200, `Herald answered error=${error}${description ? ` (${description})` : ''}.`);
    }
    const state = cookie(req, COOKIE);
    if (!state) return this.problem(res, 400, 'This browser did not start a demo sign-in (no state cookie). Start again.');
    const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
    try {
      const result = await this.client.finish(query, state);
      this.ui.send(res, 200, { title: 'Signed in', body: resultBody(result), wide: true });
    } catch (failure) {
      this.problem(res, 400, failure instanceof DemoError ? failure.message : `The sign-in could not be completed: ${describe(failure)}.`);
    }
  }

  /** The OIDC scopes plus the scopes of the demo client's first API, so an API access token shows up. */
  private scope(): string {
    const client = this.config.clients.find((c) => c.id === DEMO_CLIENT_ID);
    const api = this.config.apis.find((a) => a.id === client?.apis[0]);
    const apiScopes = (api?.scopes ?? []).filter((s) => !client?.scopes || client.scopes.includes(s));
    return ['openid', 'profile', 'email', ...apiScopes].join(' ');
  }

  private enabled(res: Response): boolean {
    if (this.config.mode === 'development') return true;
    res.status(404).json({ error: 'not_found' });
    return false;
  }

  private notConfigured(res: Response): void {
    if (res.headersSent) return;
    this.problem(res, 404, `There is no client "${DEMO_CLIENT_ID}" in the configuration.`);
  }

  private secure(): string {
    return this.config.issuer.startsWith('https:') ? '; Secure' : '';
  }

  private problem(res: Response, status: number, message: string): void {
    const body = html`<h1>Demo app</h1>
<p class="error" role="alert">${message}</p>
<div class="actions"><a class="button primary" href="/demo">Back to the demo app</a></div>`;
    this.ui.send(res, status, { title: 'Demo app', body });
  }
}

function resultBody(result: DemoResult) {
  const id = result.idToken.payload;
  const facts: Array<[string, unknown]> = [
    ['Herald user id (sub)', id.sub],
    ['Email', id.email],
    ['Name', id.name],
    ['Scope granted', result.scope],
    ['Access token expires in', result.expiresIn !== undefined ? `${result.expiresIn} s` : undefined],
    ['Refresh token', result.refreshToken ? 'issued' : 'not issued'],
  ];
  return html`<h1>Signed in</h1>
<p>The demo app redeemed its authorization code at Herald's token endpoint. This is what it received.</p>
<dl class="facts">${facts.filter(([, v]) => v !== undefined).map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl>
${token('ID token', 'id-token', result.idToken, html`<span class="badge ok">checked by openid-client</span>`)}
${token(
  'Access token',
  'access-token',
  result.accessToken,
  result.accessTokenVerified ? html`<span class="badge ok">signature verified with Herald's JWKS</span>` : html`<span class="badge">not verified</span>`,
)}
<div class="actions"><a class="button" href="/demo">Demo home</a><a class="button primary" href="/demo/login">Sign in again</a></div>`;
}

function token(title: string, id: string, decoded: DecodedJwt, badge: unknown) {
  return html`<h2 id="${id}">${title} ${badge}</h2>
<pre class="token" aria-labelledby="${id}">${JSON.stringify(decoded.header, null, 2)}
${JSON.stringify(decoded.payload, null, 2)}</pre>`;
}

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      const value = rest.join('=');
      return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

function describe(error: unknown): string {
  if (error && typeof error === 'object') {
    const { error: code, message } = error as { error?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message.slice(0, 200);
  }
  return 'unknown error';
}
