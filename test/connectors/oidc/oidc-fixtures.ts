/**
 * Shared set-up of the OIDC connector suites: corporate IdPs (oidc-provider peers), a Herald
 * whose port is known before it starts (the IdPs register its callback URLs), an application
 * (openid-client peer) and the browser walk through the whole redirect chain.
 */
import type { HeraldConfigInput } from '../../../src/config/config.schema.js';
import { baseConfig, startHerald, type StartOptions, type TestHerald } from '../../support/herald.js';
import { findLink, TestBrowser, type BrowserResponse } from '../../support/browser.js';
import { freePort } from '../../support/ports.js';
import { clientPeer, redeem, startAuthorization, type AuthorizationStart, type ClientPeer } from '../../peers/client.js';
import { UpstreamIdp, type UpstreamAccount } from '../../peers/upstream-oidc.js';

export const APP_SECRET = 'web-app-secret-0123456789abcdef-0123456789';
export const APP_REDIRECT = 'http://127.0.0.1:9/app/callback';
export const IDP_SECRET = 'herald-at-the-idp-secret-0123456789abcdef';

export const ALICE: UpstreamAccount = {
  password: 'alice-pw',
  claims: {
    sub: 'acme-0001',
    email: 'Alice@acme.test',
    email_verified: true,
    name: 'Alice Archer',
    given_name: 'Alice',
    family_name: 'Archer',
    groups: ['traders', 'eu-desk'],
  },
  amr: ['pwd', 'mfa'],
  acr: 'urn:acme:loa:2',
};

export const BOB: UpstreamAccount = {
  password: 'bob-pw',
  claims: { sub: 'acme-0002', email: 'bob@acme.test', email_verified: true, name: 'Bob Baker', given_name: 'Bob', family_name: 'Baker' },
  amr: ['pwd'],
};

/** Herald's base URL, chosen before Herald starts so IdPs can register its callbacks. */
export async function reserveHerald(): Promise<{ port: number; issuer: string; callback: (connectorId: string) => string }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  return { port, issuer, callback: (id) => `${issuer}/connectors/${id}/callback` };
}

/** An OIDC connector entry for Herald's config. */
export function oidcConnector(id: string, idp: { issuer: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'oidc',
    id,
    name: `${id[0]!.toUpperCase()}${id.slice(1)} Corp`,
    issuer: idp.issuer,
    clientId: 'herald',
    clientSecret: IDP_SECRET,
    ...extra,
  };
}

export async function startBroker(
  port: number,
  connectors: Array<Record<string, unknown>>,
  extra: Partial<HeraldConfigInput> = {},
  options: StartOptions & { sameIssuerAs?: TestHerald } = {},
): Promise<TestHerald> {
  const { sameIssuerAs, ...startOptions } = options;
  return startHerald(
    (ownIssuer) => ({
      // A second instance behind the same public URL answers for the same issuer.
      ...baseConfig(sameIssuerAs?.issuer ?? ownIssuer),
      clients: [
        { id: 'web', name: 'Trading Web', secret: APP_SECRET, redirectUris: [APP_REDIRECT], apis: ['trading'], firstParty: true },
        ...((extra.clients as unknown[]) ?? []),
      ] as HeraldConfigInput['clients'],
      connectors: connectors as HeraldConfigInput['connectors'],
      ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'clients')),
    }),
    { port, ...startOptions },
  );
}

export interface SignInResult {
  browser: TestBrowser;
  start: AuthorizationStart;
  /** The app's redirect URI with the authorization response. */
  callback: URL;
  /** Every URL the browser was sent to, in order. */
  trail: string[];
}

/**
 * app → Herald /authorize → (login page: pick `connectorId`) → IdP login + consent → Herald
 * callback → Herald continue → app callback. Returns the app callback URL.
 */
export async function signIn(
  app: ClientPeer,
  idp: UpstreamIdp,
  username: string,
  options: { params?: Record<string, string>; connectorId?: string; browser?: TestBrowser } = {},
): Promise<SignInResult> {
  const browser = options.browser ?? new TestBrowser();
  const start = await startAuthorization(app, options.params);
  const page = await toIdpLogin(browser, start.url, idp, options.connectorId);
  const done = await idp.signIn(browser, page, username, { stopAt: (url) => url.startsWith(app.redirectUri) });
  expect(done.url.startsWith(app.redirectUri)).toBe(true);
  const trail = [...page.hops, ...done.hops].map((hop) => hop.url).concat(done.url);
  return { browser, start, callback: new URL(done.url), trail };
}

/** Follows the browser from the app's authorization URL to the IdP's login page. */
export async function toIdpLogin(browser: TestBrowser, url: string, idp: UpstreamIdp, connectorId?: string): Promise<BrowserResponse> {
  let page = await browser.go(url);
  if (!page.url.startsWith(idp.issuer) && connectorId) {
    const first = page.hops;
    page = await browser.go(new URL(findLink(page.body, new RegExp(`/login/${connectorId}$`)), page.url).href);
    page.hops.unshift(...first);
  }
  if (!page.url.startsWith(`${idp.issuer}/interaction/`)) throw new Error(`expected the IdP login page, got ${page.url} (${page.status}):\n${page.body.slice(0, 1500)}`);
  return page;
}

export async function signInAndRedeem(app: ClientPeer, idp: UpstreamIdp, username: string, options: Parameters<typeof signIn>[3] = {}) {
  const result = await signIn(app, idp, username, options);
  const tokens = await redeem(app, result.callback, result.start);
  return { ...result, tokens };
}

export async function webApp(herald: TestHerald, clientId = 'web', secret = APP_SECRET): Promise<ClientPeer> {
  return clientPeer(herald.issuer, clientId, secret, APP_REDIRECT);
}

export { UpstreamIdp };
