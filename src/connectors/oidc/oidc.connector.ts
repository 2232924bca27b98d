/**
 * The OpenID Connect connector: Herald is a relying party of a corporate IdP (Entra ID, Okta,
 * Keycloak, Google Workspace…) with openid-client 6. Every sign-in uses the code flow with PKCE
 * S256, `state` and `nonce`, all kept in the flow-state table (any Herald instance can finish
 * it) and taken exactly once; the browser is bound to the sign-in by a cookie.
 *
 * Routes under /connectors/<id>/:
 * - `start`     sets the browser-binding cookie, then redirects to the IdP;
 * - `callback`  the redirect URI registered at the IdP: checks state, binding, RFC 9207 `iss`,
 *               redeems the code, checks the ID token (claims, nonce, signature), reads userinfo.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import {
  ConnectorError,
  type BeginResult,
  type Connector,
  type ConnectorRoute,
  type ConnectorRouteContext,
  type ConnectorServices,
  type LoginContext,
} from '../connector.js';
import { bindingCookies, bindingMatches, clearBindingCookie, cookieName, hashBinding, newBinding, setBindingCookie, type CookieScope } from './browser-binding.js';
import { clientAuthentication, type ClientAuthentication } from './oidc-client-auth.js';
import { OidcDiscovery } from './oidc-discovery.js';
import { toConnectorError } from './oidc-errors.js';
import { createUpstreamHttp, type UpstreamHttp } from './oidc-http.js';
import { identityFromClaims } from './oidc-identity.js';
import { isLoopbackHost, type OidcConnectorConfig } from './oidc.config.js';

/** How long a user has at the IdP; matches the default interaction lifetime. */
const FLOW_TTL_SECONDS = 600;
/** Asymmetric JWS algorithms accepted on ID tokens (never `none` or HMAC with a public secret). */
const ID_TOKEN_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const CLOCK_TOLERANCE_SECONDS = 30;

interface FlowState extends Record<string, unknown> {
  interactionId: string;
  nonce: string;
  verifier: string;
  /** The client the sign-in is for (logged when the callback is refused). */
  clientId: string;
  /** SHA-256 of the browser-binding cookie, set by the `start` route. */
  bindingHash?: string;
}

export class OidcConnector implements Connector {
  readonly type = 'oidc' as const;
  readonly id: string;
  readonly name: string;
  readonly transforms: string[];
  readonly emailDomains: string[];

  private readonly http: UpstreamHttp;
  private readonly discovery: OidcDiscovery;
  private readonly redirectUri: string;
  private readonly cookieScope: CookieScope;
  private auth: Promise<ClientAuthentication> | undefined;

  constructor(
    private readonly config: OidcConnectorConfig,
    private readonly services: ConnectorServices,
  ) {
    this.id = config.id;
    this.name = config.name;
    this.transforms = config.transforms;
    this.emailDomains = config.emailDomains;
    this.redirectUri = `${services.issuer}/connectors/${encodeURIComponent(config.id)}/callback`;
    this.cookieScope = {
      path: `/connectors/${encodeURIComponent(config.id)}/`,
      secure: services.issuer.startsWith('https:'),
      maxAgeSeconds: FLOW_TTL_SECONDS,
    };
    this.http = createUpstreamHttp(config.timeouts);
    this.discovery = new OidcDiscovery(
      config,
      this.http,
      () => (this.auth ??= clientAuthentication(config, services.configDir)),
      (error) => this.services.log('warn', 'IdP metadata refresh failed; keeping the previous metadata', { reason: error.reason, detail: error.detail }),
    );
  }

  /** Starts discovery in the background: Herald does not wait for (or fail on) a slow or absent IdP. */
  async init(): Promise<void> {
    void this.discovery.ready().then(
      () => this.services.log('info', 'IdP discovered', { issuer: this.config.issuer }),
      (error: ConnectorError) =>
        this.services.log('warn', 'IdP discovery failed; it is retried on the next sign-in', { issuer: this.config.issuer, reason: error.reason, detail: error.detail }),
    );
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  async begin(login: LoginContext): Promise<BeginResult> {
    const { configuration } = await this.discovery.ready();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const params: Record<string, string> = {
      ...this.config.authorizationParams,
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: this.config.scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    if (this.config.forwardLoginHint && login.loginHint && !params.login_hint) params.login_hint = login.loginHint.slice(0, 256);
    // A client asking Herald to re-authenticate gets a fresh upstream sign-in too.
    if (login.prompt?.includes('login') && !params.prompt) params.prompt = 'login';
    // max_age and acr_values travel upstream too: otherwise an upstream SSO answer with an old
    // auth_time (or a weaker acr) could never satisfy what the client asked Herald for.
    if (login.maxAge !== undefined && !params.max_age) params.max_age = String(login.maxAge);
    if (login.acrValues?.length && !params.acr_values) params.acr_values = login.acrValues.join(' ');
    const url = oidc.buildAuthorizationUrl(configuration, params);

    const flow: FlowState = { interactionId: login.interactionId, clientId: login.clientId, nonce, verifier };
    await this.services.state.put(`state:${state}`, flow, FLOW_TTL_SECONDS);
    await this.services.state.put(`start:${state}`, { url: url.href }, FLOW_TTL_SECONDS);
    return { kind: 'redirect', url: `${this.services.issuer}${this.cookieScope.path}start?state=${encodeURIComponent(state)}` };
  }

  routes(): ConnectorRoute[] {
    return [
      { method: 'GET', path: 'start', handle: (ctx) => this.start(ctx) },
      { method: 'GET', path: 'callback', handle: (ctx) => this.callback(ctx) },
    ];
  }

  /** Binds the browser, then sends it to the IdP. The start link works once. */
  private async start(ctx: ConnectorRouteContext): Promise<void> {
    const state = singleParam(ctx.req.query.state);
    const start = state ? await this.services.state.take(`start:${state}`) : undefined;
    const flow = start && state ? ((await this.services.state.peek(`state:${state}`)) as FlowState | undefined) : undefined;
    if (!state || !start || !flow || typeof start.url !== 'string') {
      return ctx.fail(undefined, new ConnectorError('upstream_protocol', 'start_unknown', 'sign-in start link missing, reused or expired'));
    }
    const binding = newBinding();
    await this.services.state.update(`state:${state}`, { ...flow, bindingHash: binding.hash });
    await this.services.state.put(`browser:${binding.hash}`, { interactionId: flow.interactionId, state }, FLOW_TTL_SECONDS);
    setBindingCookie(ctx.res, state, binding.value, this.cookieScope);
    ctx.res.status(303).setHeader('location', start.url).setHeader('cache-control', 'no-store').end();
  }

  private async callback(ctx: ConnectorRouteContext): Promise<void> {
    const { req, res } = ctx;
    const cookies = bindingCookies(req);
    const state = singleParam(req.query.state);

    if (!state) {
      // Without a state the answer cannot be trusted; if this browser has exactly one sign-in
      // waiting at this connector, end that one with an error so the application hears back.
      const pending = cookies.size === 1 ? [...cookies][0]! : undefined;
      for (const name of cookies.keys()) clearBindingCookie(res, name, this.cookieScope);
      const waiting = pending ? await this.services.state.take(`browser:${hashBinding(pending[1])}`) : undefined;
      if (waiting && typeof waiting.state === 'string') await this.services.state.take(`state:${waiting.state}`);
      return ctx.fail(
        typeof waiting?.interactionId === 'string' ? waiting.interactionId : undefined,
        new ConnectorError('upstream_protocol', 'state_missing', 'the callback has no state parameter'),
      );
    }

    const name = cookieName(state);
    const bindingValue = cookies.get(name);
    if (bindingValue) clearBindingCookie(res, name, this.cookieScope);
    const flow = (await this.services.state.take(`state:${state}`)) as FlowState | undefined;
    if (!flow) {
      // Reused or expired. If this browser still waits for that sign-in, end it with an error.
      const waiting = bindingValue ? await this.services.state.take(`browser:${hashBinding(bindingValue)}`) : undefined;
      const interactionId = waiting?.state === state && typeof waiting.interactionId === 'string' ? waiting.interactionId : undefined;
      return ctx.fail(interactionId, new ConnectorError('upstream_protocol', 'state_unknown', 'state unknown, reused or expired'));
    }
    if (!bindingMatches(bindingValue, flow.bindingHash)) {
      // Another browser: do not touch the sign-in it belongs to, and do not redeem the code.
      this.services.log('warn', 'callback refused: it arrived in a browser that did not start the sign-in', { clientId: flow.clientId, interactionId: flow.interactionId });
      return ctx.fail(undefined, new ConnectorError('upstream_protocol', 'state_browser_mismatch', 'the callback arrived in a browser that did not start this sign-in'));
    }
    await this.services.state.take(`browser:${flow.bindingHash}`);

    try {
      const identity = await this.redeem(req.originalUrl, state, flow);
      await ctx.succeed(flow.interactionId, identity);
    } catch (error) {
      const failure = error instanceof ConnectorError ? error : toConnectorError(error, 'token');
      this.services.log(failure.kind === 'upstream_unavailable' ? 'warn' : 'error', 'upstream sign-in failed', { reason: failure.reason, detail: failure.detail });
      return ctx.fail(flow.interactionId, failure);
    }
  }

  /** Checks the authorization response, redeems the code and turns the tokens into an identity. */
  private async redeem(originalUrl: string, state: string, flow: FlowState) {
    const idp = await this.discovery.ready();
    // The redirect URI openid-client derives for the token request must be the registered one,
    // whatever Host header this request came with.
    const query = originalUrl.includes('?') ? originalUrl.slice(originalUrl.indexOf('?')) : '';
    const currentUrl = new URL(`${this.redirectUri}${query}`);

    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(idp.configuration, currentUrl, {
        expectedState: state,
        expectedNonce: flow.nonce,
        pkceCodeVerifier: flow.verifier,
        idTokenExpected: true,
      });
    } catch (error) {
      throw toConnectorError(error, 'token');
    }
    const claims = tokens.claims();
    if (!tokens.id_token || !claims) throw new ConnectorError('upstream_protocol', 'id_token_missing', 'the token response has no ID token');

    try {
      await jwtVerify(tokens.id_token, idp.jwks, {
        issuer: idp.issuer,
        audience: this.config.clientId,
        algorithms: ID_TOKEN_ALGS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
    } catch (error) {
      throw toConnectorError(error, 'id_token');
    }

    let userinfo: Record<string, unknown> = {};
    if (this.config.userinfo && idp.configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        userinfo = { ...(await oidc.fetchUserInfo(idp.configuration, tokens.access_token, claims.sub)) };
      } catch (error) {
        throw toConnectorError(error, 'userinfo');
      }
    }
    return identityFromClaims(this.config, idp.issuer, { ...claims }, userinfo);
  }
}

function singleParam(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
}

export function createOidcConnector(config: OidcConnectorConfig, services: ConnectorServices): Connector {
  const where = `connector "${config.id}"`;
  const issuer = new URL(config.issuer);
  if (issuer.protocol === 'http:' && !isLoopbackHost(issuer.hostname) && !services.development) {
    throw new Error(`${where}: a plain http:// issuer is only allowed in development mode`);
  }
  if (config.authMethod === 'private_key_jwt') checkPrivateKey(config, services.configDir, where);
  return new OidcConnector(config, services);
}

/** Fails the boot on a missing or unreadable private key, rather than at the first sign-in. */
function checkPrivateKey(config: OidcConnectorConfig, configDir: string, where: string): void {
  try {
    let material: unknown = config.privateKey;
    if (config.privateKeyFile) {
      const text = readFileSync(resolve(configDir, config.privateKeyFile), 'utf8').trim();
      material = text.startsWith('{') ? JSON.parse(text) : text;
    }
    const key = typeof material === 'string' ? createPrivateKey(material) : createPrivateKey({ key: material as never, format: 'jwk' });
    if (key.type !== 'private') throw new Error('not a private key');
  } catch (error) {
    throw new Error(`${where}: private key for private_key_jwt cannot be used: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}
