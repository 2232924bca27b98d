/**
 * Shared set-up of the SAML connector suites: a partner IdP (samlify peer with its own key), a
 * Herald whose port is known before it starts (the IdP reads the connector's metadata URL), the
 * application (openid-client peer), and the browser walk:
 *   app → Herald /authorize → AuthnRequest → IdP → auto-post form → Herald ACS → app callback.
 *
 * The ACS POST is sent *without* cookies, as a browser sends a cross-site POST to SameSite=Lax
 * cookies; the redirect that follows is a top-level GET, where the interaction cookie proves the
 * browser.
 */
import type { HeraldConfigInput } from '../../../src/config/config.schema.js';
import { baseConfig, startHerald, type StartOptions, type TestHerald } from '../../support/herald.js';
import { findForm, TestBrowser, type BrowserResponse, type ParsedForm } from '../../support/browser.js';
import { freePort } from '../../support/ports.js';
import { clientPeer, startAuthorization, type AuthorizationStart, type ClientPeer } from '../../peers/client.js';
import { generateKeyPair, SamlIdp, type KeyPair, type SamlIdpOptions } from '../../peers/saml-idp.js';

export const APP_SECRET = 'web-app-secret-0123456789abcdef-0123456789';
export const APP_REDIRECT = 'http://127.0.0.1:9/app/callback';
export const CONNECTOR = 'partner';

export interface TestKeys {
  spSigning: KeyPair;
  spEncryptionNew: KeyPair;
  spEncryptionOld: KeyPair;
  idpNext: KeyPair;
  attacker: KeyPair;
  /** Signs IdP metadata (a federation operator, say). */
  metadataSigner: KeyPair;
}

let keys: Promise<TestKeys> | undefined;

/** Generated once per test file: SP signing, two SP decryption keys, a second IdP key, an attacker. */
export function testKeys(): Promise<TestKeys> {
  keys ??= (async () => ({
    spSigning: await generateKeyPair('herald-sp-signing'),
    spEncryptionNew: await generateKeyPair('herald-sp-encryption-new'),
    spEncryptionOld: await generateKeyPair('herald-sp-encryption-old'),
    idpNext: await generateKeyPair('partner-idp-next'),
    attacker: await generateKeyPair('attacker'),
    metadataSigner: await generateKeyPair('federation-metadata-signer'),
  }))();
  return keys;
}

/** The SAML connector entry of Herald's config for `idp`. */
export function samlConnector(idp: SamlIdp, id: string, extra: Record<string, unknown> = {}, idpExtra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'saml',
    id,
    name: `Partner Corp (${id})`,
    idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, sloUrl: idp.sloUrl, certificates: [idp.signer.certificate], ...idpExtra },
    ...extra,
  };
}

export interface Setup {
  herald: TestHerald;
  idp: SamlIdp;
  app: ClientPeer;
  keys: TestKeys;
  stop(): Promise<void>;
}

export interface SetupOptions {
  /** Connector settings besides type/id/name/idp, for the connector `partner`. */
  connector?: (keys: TestKeys, idp: SamlIdp) => Record<string, unknown>;
  /** More SAML connectors trusting the same IdP: id → settings (chosen with `toIdpAnswer(…, { connector })`). */
  more?: (keys: TestKeys, idp: SamlIdp) => Record<string, Record<string, unknown>>;
  /** Extra `idp` settings of the connector. */
  idpSettings?: (keys: TestKeys, idp: SamlIdp) => Record<string, unknown>;
  idpOptions?: Partial<SamlIdpOptions>;
  config?: (issuer: string) => Partial<HeraldConfigInput>;
  herald?: StartOptions;
  /** Runs after the IdP started and before Herald starts (e.g. to publish signed IdP metadata). */
  beforeHerald?: (idp: SamlIdp, keys: TestKeys) => void;
}

/** Herald's config for a setup (also used to start a second instance with the same config). */
export function heraldConfig(issuer: string, idp: SamlIdp, k: TestKeys, options: SetupOptions = {}): HeraldConfigInput {
  return {
    ...baseConfig(issuer),
    clients: [{ id: 'web', name: 'Trading Web', secret: APP_SECRET, redirectUris: [APP_REDIRECT], postLogoutRedirectUris: ['http://127.0.0.1:9/app/bye'], apis: ['trading'], firstParty: true }],
    connectors: [
      samlConnector(idp, CONNECTOR, options.connector?.(k, idp) ?? {}, options.idpSettings?.(k, idp) ?? {}),
      ...Object.entries(options.more?.(k, idp) ?? {}).map(([id, extra]) => samlConnector(idp, id, extra, options.idpSettings?.(k, idp) ?? {})),
    ] as HeraldConfigInput['connectors'],
    ...options.config?.(issuer),
  };
}

export async function startSetup(options: SetupOptions = {}): Promise<Setup> {
  const k = await testKeys();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const idp = await SamlIdp.start({ spMetadataUrl: `${issuer}/connectors/${CONNECTOR}/metadata`, ...options.idpOptions });
  options.beforeHerald?.(idp, k);
  const herald = await startHerald((iss) => heraldConfig(iss, idp, k, options), { port, ...options.herald });
  const app = await clientPeer(herald.issuer, 'web', APP_SECRET, APP_REDIRECT);
  return {
    herald,
    idp,
    app,
    keys: k,
    stop: async () => {
      await herald.stop();
      await idp.close();
    },
  };
}

export interface AtIdp {
  browser: TestBrowser;
  start: AuthorizationStart;
  /** The IdP's auto-post page and its form (SAMLResponse, RelayState) addressed to Herald's ACS. */
  page: BrowserResponse;
  form: ParsedForm;
  /** Herald's AuthnRequest ID, as the IdP received it. */
  requestId: string;
}

/** app → Herald → IdP, stopping at the IdP's answer (not yet posted to Herald). */
export async function toIdpAnswer(
  setup: Pick<Setup, 'app' | 'idp' | 'herald'>,
  options: { connector?: string; params?: Record<string, string>; browser?: TestBrowser } = {},
): Promise<AtIdp> {
  const connector = options.connector ?? CONNECTOR;
  const browser = options.browser ?? new TestBrowser();
  setup.idp.useSp(`${setup.herald.issuer}/connectors/${connector}/metadata`);
  const start = await startAuthorization(setup.app, { scope: 'openid profile email trades', idp_hint: connector, ...options.params });
  let page = await browser.go(start.url);
  if (page.body.includes('id="autopost"')) {
    // HTTP-POST binding: Herald's auto-submit page to the IdP.
    page = await browser.submit(page, {}, { id: 'autopost' });
  }
  if (!page.url.startsWith(setup.idp.ssoUrl) || page.status !== 200) {
    throw new Error(`expected the IdP's answer, got ${page.url} (${page.status}):\n${page.body.slice(0, 1500)}`);
  }
  const form = findForm(page.body, { id: 'saml' });
  return { browser, start, page, form, requestId: setup.idp.authnRequests.at(-1)!.id };
}

export interface AcsResult {
  /** Herald's immediate answer to the ACS POST. */
  acs: { status: number; location: string | null; body: string };
  /** Where the browser ended: the app callback (success or OAuth error) or a Herald page. */
  callback?: URL;
  page?: BrowserResponse;
}

/**
 * Posts `fields` to the ACS like a cross-site form post (no cookies), then lets the browser follow
 * Herald's redirect (top-level GET with its cookies) until the app's callback.
 */
export async function postToAcs(
  setup: Pick<Setup, 'app'>,
  at: Pick<AtIdp, 'browser' | 'form'>,
  fields: Record<string, string> = {},
  /** Post to this instance instead (same path, another origin: a second Herald behind the same public URL). */
  via?: { origin: string },
): Promise<AcsResult> {
  const action = via ? `${via.origin}${new URL(at.form.action).pathname}` : at.form.action;
  const body = new URLSearchParams({ ...at.form.fields, ...fields });
  const response = await fetch(action, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
  const acs = { status: response.status, location: response.headers.get('location'), body: await response.text() };
  if (!(acs.status === 303 && acs.location)) return { acs };
  let callback: URL | undefined;
  const page = await at.browser.go(new URL(acs.location, action).href, {}, (next) => {
    if (next.startsWith(setup.app.redirectUri)) {
      callback = new URL(next);
      return true;
    }
    return false;
  });
  return { acs, callback, page };
}

/**
 * After a refused sign-in Herald shows a page with a "Return to the application" link (the
 * interaction already ended with an OAuth error); following it delivers the error to the app.
 */
export async function followFailure(setup: Pick<Setup, 'app'>, at: Pick<AtIdp, 'browser'>, result: AcsResult): Promise<{ page: BrowserResponse; callback?: URL }> {
  const page = result.page!;
  const link = /id="continue" href="([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
  if (!link) throw new Error(`expected Herald's failure page with a way back to the app, got ${page.url} (${page.status}):\n${page.body.slice(0, 1500)}`);
  let callback: URL | undefined;
  await at.browser.go(new URL(link, page.url).href, {}, (next) => {
    if (next.startsWith(setup.app.redirectUri)) {
      callback = new URL(next);
      return true;
    }
    return false;
  });
  return { page, callback };
}

/** The `saml.assertion_rejected` events so far, newest last. */
export async function rejections(herald: TestHerald): Promise<Array<{ reason: string | null; detail?: string; clientId: string | null }>> {
  const events = await herald.audit.find({ type: 'saml.assertion_rejected' });
  return events.map((e) => ({ reason: e.reason, detail: (e.data as { detail?: string } | null)?.detail, clientId: e.clientId }));
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');
export const unb64 = (value: string) => Buffer.from(value, 'base64').toString('utf8');
