/**
 * The corporate IdP peer: a real oidc-provider on a loopback port with its own accounts and its
 * own login and consent pages (plain forms the TestBrowser or Chromium submits). Switches make it
 * misbehave the way broken or hostile IdPs do: ID tokens signed with a key that is not in its
 * JWKS (or a forged key under its real kid), a wrong `nonce` or `iss` in the ID token, a wrong
 * or missing RFC 9207 `iss` in the authorization response, a discovery document naming another
 * issuer, endpoints that never answer. The misbehaviours rewrite oidc-provider's real answers;
 * nothing of the protocol is stubbed. Several instances can run side by side.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { freePort } from '../support/ports.js';
import { findForm, type BrowserResponse, type TestBrowser } from '../support/browser.js';

export interface UpstreamAccount {
  password: string;
  /** Claims of the account; `sub` is required. */
  claims: Record<string, unknown> & { sub: string };
  amr?: string[];
  acr?: string;
}

export interface UpstreamClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /** Public keys, for private_key_jwt. */
  jwks?: { keys: JWK[] };
}

export interface UpstreamIdpOptions {
  port?: number;
  /** Shown on the IdP's own pages. */
  name?: string;
  accounts: Record<string, UpstreamAccount>;
  clients: UpstreamClient[];
  /**
   * true (oidc-provider's default): scope claims are only served by userinfo, as OIDC Core says
   * when an access token is issued. false: they are in the ID token too.
   */
  conformIdTokenClaims?: boolean;
  /** Ask for consent after login (default true). */
  consent?: boolean;
}

export type IdpEndpoint = 'discovery' | 'authorization' | 'token' | 'userinfo' | 'jwks';

/** Ways to misbehave; all off by default. */
export interface Misbehaviour {
  /**
   * Which key signs ID tokens: the published one, the rotated one (published only with
   * publishRotatedKey), a key that is never published, or a forged key under the published kid.
   */
  signingKey?: 'published' | 'rotated' | 'stranger' | 'forged';
  /** Publish the rotated key in the JWKS (with signingKey 'rotated': a normal key rotation). */
  publishRotatedKey?: boolean;
  /** ID tokens carry this nonce instead of the one requested. */
  nonce?: string;
  /** ID tokens carry this `iss`. */
  idTokenIssuer?: string;
  /** The authorization response's RFC 9207 `iss` parameter: another value, or null to leave it out. */
  responseIssuer?: string | null;
  /** Leave `authorization_response_iss_parameter_supported` out of discovery. */
  hideIssParameterSupport?: boolean;
  /** The discovery document names this issuer. */
  discoveryIssuer?: string;
  /** Userinfo answers about this subject instead. */
  userinfoSubject?: string;
  /** Endpoints that accept the request and never answer. */
  hang?: IdpEndpoint[];
}

export interface RecordedRequest {
  method: string;
  endpoint: IdpEndpoint | 'other';
  path: string;
  params: Record<string, string>;
}

export class UpstreamIdp {
  behave: Misbehaviour = {};
  readonly requests: RecordedRequest[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly issuer: string,
    readonly port: number,
    readonly provider: Provider,
    private readonly server: Server,
    private readonly keys: Record<'published' | 'rotated' | 'stranger' | 'forged', CryptoKeyPairJwk>,
    private readonly options: UpstreamIdpOptions,
  ) {}

  static async start(options: UpstreamIdpOptions): Promise<UpstreamIdp> {
    const port = options.port ?? (await freePort());
    const issuer = `http://127.0.0.1:${port}`;
    const published = await keyPair('idp-key-1');
    const rotated = await keyPair('idp-key-2');
    const stranger = await keyPair('idp-key-3');
    const forged = await keyPair('idp-key-1');
    const byAccountId = new Map(Object.values(options.accounts).map((account) => [account.claims.sub, account]));
    const extraClaims = [...new Set(Object.values(options.accounts).flatMap((a) => Object.keys(a.claims)))].filter(
      (name) => !['sub', 'email', 'email_verified', 'name', 'given_name', 'family_name'].includes(name),
    );
    const configuration: Configuration = {
      clients: options.clients.map((client) => toClientMetadata(client, issuer)),
      jwks: { keys: [published.privateJwk as never] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      // acr, amr and auth_time ride with the openid scope so that every ID token carries them.
      claims: { sid: null, openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', ...extraClaims] },
      conformIdTokenClaims: options.conformIdTokenClaims ?? true,
      acrValues: [...new Set(Object.values(options.accounts).flatMap((a) => (a.acr ? [a.acr] : [])))],
      pkce: { required: () => true },
      // Client jwks_uri fetches go to loopback, which oidc-provider's SSRF guard refuses by default.
      fetch: (url, init) => globalThis.fetch(url, { ...init, dispatcher: undefined } as RequestInit),
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
      features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
      interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: async (_ctx, sub) => {
        const account = byAccountId.get(sub);
        return account ? { accountId: sub, claims: async () => ({ ...account.claims }) } : undefined;
      },
      renderError: async (ctx, out) => {
        ctx.type = 'html';
        ctx.body = `<!DOCTYPE html><title>IdP error</title><h1>IdP error</h1><p>${escape(out.error)}: ${escape(out.error_description)}</p>`;
      },
    };
    const provider = new Provider(issuer, configuration);
    const server = createServer();
    const idp = new UpstreamIdp(issuer, port, provider, server, { published, rotated, stranger, forged }, options);
    const providerHandler = provider.callback();
    server.on('connection', (socket) => {
      idp.sockets.add(socket);
      socket.on('close', () => idp.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      idp.handle(req, res, providerHandler).catch((error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return idp;
  }

  /** Back to a well-behaved IdP. */
  reset(): void {
    this.behave = {};
  }

  /** How many times each endpoint was asked. */
  count(endpoint: IdpEndpoint): number {
    return this.requests.filter((r) => r.endpoint === endpoint).length;
  }

  lastAuthorizationRequest(): RecordedRequest | undefined {
    return this.requests.filter((r) => r.endpoint === 'authorization' && r.params.client_id).at(-1);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }

  /**
   * On the IdP's login page: signs in as `username` and answers the consent page, following
   * redirects until `stopAt` (default: the browser leaves the IdP).
   */
  async signIn(
    browser: TestBrowser,
    page: BrowserResponse,
    username: string,
    options: { password?: string; decision?: 'allow' | 'deny'; stopAt?: (url: string) => boolean } = {},
  ): Promise<BrowserResponse> {
    const leaves = options.stopAt ?? ((url: string) => !url.startsWith(this.issuer));
    if (!page.url.startsWith(`${this.issuer}/interaction/`)) throw new Error(`not on the IdP's login page: ${page.url} (${page.status})\n${page.body.slice(0, 500)}`);
    if (options.decision === 'deny') return browser.submit(page, {}, { action: '/abort' }, leaves);
    const password = options.password ?? this.options.accounts[username]?.password ?? 'wrong';
    const next = await browser.submit(page, { username, password }, { action: '/login' }, leaves);
    // Redirects end either outside the IdP or on its consent page.
    if (next.url.startsWith(`${this.issuer}/interaction/`) && next.body.includes('id="consent"')) {
      const done = await browser.submit(next, {}, { action: '/confirm' }, leaves);
      return { ...done, hops: [...next.hops, ...done.hops] };
    }
    return next;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, providerHandler: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<void> {
    const options = this.options;
    const url = new URL(req.url ?? '/', this.issuer);
    const endpoint = endpointOf(url.pathname);
    this.requests.push({ method: req.method ?? 'GET', endpoint, path: url.pathname, params: Object.fromEntries(url.searchParams) });
    if (endpoint !== 'other' && this.behave.hang?.includes(endpoint)) return; // never answers

    if (url.pathname.startsWith('/interaction/')) return this.interaction(req, res, url, options);
    if (endpoint === 'jwks') return this.jwks(res);
    const clientKeys = /^\/clients\/([^/]+)\/jwks$/.exec(url.pathname);
    if (clientKeys) {
      const client = options.clients.find((c) => c.clientId === decodeURIComponent(clientKeys[1]!));
      res.writeHead(client?.jwks ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(client?.jwks ?? {}));
      return;
    }
    if (endpoint === 'discovery') {
      rewriteJson(res, (doc) => {
        if (this.behave.discoveryIssuer) doc.issuer = this.behave.discoveryIssuer;
        if (this.behave.hideIssParameterSupport) delete doc.authorization_response_iss_parameter_supported;
        return doc;
      });
    }
    if (endpoint === 'token') rewriteJson(res, (body) => this.rewriteTokenResponse(body));
    if (endpoint === 'userinfo' && this.behave.userinfoSubject) rewriteJson(res, (body) => ({ ...body, sub: this.behave.userinfoSubject }));
    rewriteRedirect(res, options.clients.flatMap((c) => c.redirectUris), (location) => {
      if (this.behave.responseIssuer === null) location.searchParams.delete('iss');
      else if (this.behave.responseIssuer !== undefined) location.searchParams.set('iss', this.behave.responseIssuer);
      return location;
    });
    await providerHandler(req, res);
  }

  private jwks(res: ServerResponse): void {
    const keys = [this.keys.published.publicJwk];
    if (this.behave.publishRotatedKey) keys.push(this.keys.rotated.publicJwk);
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys }));
  }

  /** Re-signs the ID token after applying the misbehaviours that touch it. */
  private async rewriteTokenResponse(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { signingKey = 'published', nonce, idTokenIssuer } = this.behave;
    if (typeof body.id_token !== 'string' || (signingKey === 'published' && nonce === undefined && idTokenIssuer === undefined)) return body;
    const header = decodeProtectedHeader(body.id_token);
    const claims = decodeJwt(body.id_token);
    if (nonce !== undefined) claims.nonce = nonce;
    if (idTokenIssuer !== undefined) claims.iss = idTokenIssuer;
    const key = this.keys[signingKey];
    body.id_token = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'RS256', kid: key.kid }).sign(key.privateKey);
    return body;
  }

  /** The IdP's own login and consent pages. */
  private async interaction(req: IncomingMessage, res: ServerResponse, url: URL, options: UpstreamIdpOptions): Promise<void> {
    const [, , uid, action] = url.pathname.split('/');
    const details = await this.provider.interactionDetails(req, res).catch(() => undefined);
    if (!details || details.uid !== uid) return page(res, 400, '<h1>Session expired</h1>');
    const title = escape(options.name ?? 'Corporate IdP');
    if (req.method === 'GET') {
      if (details.prompt.name === 'login') return page(res, 200, loginForm(uid!, title, details.params.login_hint as string | undefined));
      return page(res, 200, consentForm(uid!, title, String(details.params.scope ?? '')));
    }
    const form = new URLSearchParams(await readBody(req));
    if (action === 'abort') {
      await this.provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false });
      return;
    }
    if (action === 'login') {
      const account = options.accounts[form.get('username') ?? ''];
      if (!account || account.password !== form.get('password')) {
        return page(res, 200, loginForm(uid!, title, form.get('username') ?? undefined, 'Wrong user name or password.'));
      }
      const login = { accountId: account.claims.sub, amr: account.amr, acr: account.acr, remember: false };
      if (options.consent === false) {
        const grant = new this.provider.Grant({ accountId: account.claims.sub, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope ?? 'openid'));
        const grantId = await grant.save();
        await this.provider.interactionFinished(req, res, { login, consent: { grantId } }, { mergeWithLastSubmission: false });
        return;
      }
      await this.provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
      return;
    }
    if (action === 'confirm') {
      const grant = details.grantId
        ? (await this.provider.Grant.find(details.grantId))!
        : new this.provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      await this.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    page(res, 404, '<h1>Not found</h1>');
  }
}

interface CryptoKeyPairJwk {
  kid: string;
  privateKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
}

async function keyPair(kid: string): Promise<CryptoKeyPairJwk> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, privateJwk, publicJwk };
}

function toClientMetadata(client: UpstreamClient, issuer: string): ClientMetadata {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.authMethod ?? 'client_secret_basic',
    // Served by the peer itself: under Jest's VM realms, inline `jwks` fails oidc-provider's
    // plain-object check.
    jwks_uri: client.jwks ? `${issuer}/clients/${encodeURIComponent(client.clientId)}/jwks` : undefined,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    require_auth_time: true,
  };
}

function endpointOf(pathname: string): IdpEndpoint | 'other' {
  if (pathname === '/.well-known/openid-configuration') return 'discovery';
  if (pathname === '/auth' || pathname.startsWith('/auth/')) return 'authorization';
  if (pathname === '/token') return 'token';
  if (pathname === '/me') return 'userinfo';
  if (pathname === '/jwks') return 'jwks';
  return 'other';
}

/** Lets a JSON answer of oidc-provider be changed before it is sent. */
function rewriteJson(res: ServerResponse, change: (body: Record<string, unknown>) => Record<string, unknown> | Promise<Record<string, unknown>>): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  const chunks: Buffer[] = [];
  const write = res.write.bind(res);
  res.write = ((chunk: unknown) => {
    chunks.push(Buffer.from(chunk as Buffer));
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as Buffer));
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    if (!parsed || res.statusCode !== 200) {
      res.write = write;
      return end(Buffer.concat(chunks));
    }
    void Promise.resolve(change(parsed)).then((changed) => {
      const out = Buffer.from(JSON.stringify(changed));
      if (!res.headersSent) res.setHeader('content-length', out.length);
      res.write = write;
      end(out);
    });
    return res;
  }) as typeof res.end;
}

/** Lets the Location of a redirect to one of `targets` be changed. */
function rewriteRedirect(res: ServerResponse, targets: string[], change: (location: URL) => URL): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = ((name: string, value: number | string | readonly string[]) => {
    if (name.toLowerCase() === 'location' && typeof value === 'string' && targets.some((t) => value.startsWith(t))) {
      return setHeader(name, change(new URL(value)).href);
    }
    return setHeader(name, value);
  }) as typeof res.setHeader;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function page(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>IdP</title></head><body>${body}</body></html>`);
}

function loginForm(uid: string, title: string, loginHint?: string, error?: string): string {
  return `<h1>${title} sign-in</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${uid}/login">
<label>User name <input name="username" value="${escape(loginHint ?? '')}"></label>
<label>Password <input name="password" type="password" value=""></label>
<button type="submit">Sign in</button>
</form>
<form id="abort" method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>`;
}

function consentForm(uid: string, title: string, scope: string): string {
  return `<h1>${title}: share your profile?</h1><p>Scopes: ${escape(scope)}</p>
<form id="consent" method="post" action="/interaction/${uid}/confirm"><button type="submit">Allow</button></form>
<form id="abort" method="post" action="/interaction/${uid}/abort"><button type="submit">Deny</button></form>`;
}

function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
