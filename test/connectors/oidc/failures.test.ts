/**
 * Every way an upstream OIDC sign-in can go wrong ends with a clear page for the user, the right
 * OAuth error for the application, a `login.failed` audit event with the reason — and never a
 * 500, a stack trace or an internal detail on the page.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { TestHerald } from '../../support/herald.js';
import { TestBrowser, type BrowserResponse } from '../../support/browser.js';
import { freePort } from '../../support/ports.js';
import { redeem, startAuthorization, type ClientPeer } from '../../peers/client.js';
import { ALICE, APP_REDIRECT, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, signIn, startBroker, toIdpLogin, webApp } from './oidc-fixtures.js';

const FAST = { connectMs: 500, totalMs: 1200 };

describe('OIDC connector: failures', () => {
  let idp: UpstreamIdp;
  let impostor: UpstreamIdp;
  let sleepy: UpstreamIdp;
  let quiet: UpstreamIdp;
  let blackhole: TcpServer;
  const blackholeSockets = new Set<Socket>();
  let herald: TestHerald;
  let app: ClientPeer;

  beforeAll(async () => {
    const broker = await reserveHerald();
    const registration = (id: string) => [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback(id)] }];
    idp = await UpstreamIdp.start({ name: 'Acme IdP', accounts: { alice: ALICE }, clients: registration('acme') });
    // Its discovery document names another issuer.
    impostor = await UpstreamIdp.start({ accounts: { alice: ALICE }, clients: registration('impostor') });
    impostor.behave = { discoveryIssuer: 'https://login.acme.example' };
    // Does not answer discovery while Herald boots.
    sleepy = await UpstreamIdp.start({ accounts: { alice: ALICE }, clients: registration('sleepy') });
    sleepy.behave = { hang: ['discovery'] };
    // Neither advertises nor sends RFC 9207 `iss`.
    quiet = await UpstreamIdp.start({ accounts: { alice: ALICE }, clients: registration('quiet'), consent: false });
    quiet.behave = { hideIssParameterSupport: true, responseIssuer: null };
    // Accepts TCP connections and never speaks TLS: only a connect timeout ends the wait.
    blackhole = createTcpServer((socket) => {
      blackholeSockets.add(socket);
      socket.on('close', () => blackholeSockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const blackholePort = (blackhole.address() as { port: number }).port;
    const closedPort = await freePort();

    herald = await startBroker(broker.port, [
      oidcConnector('acme', idp, { timeouts: FAST, jwksCooldownSeconds: 3600 }),
      oidcConnector('impostor', impostor),
      oidcConnector('sleepy', sleepy, { timeouts: FAST }),
      oidcConnector('quiet', quiet),
      oidcConnector('down', { issuer: `http://127.0.0.1:${closedPort}` }, { timeouts: FAST }),
      oidcConnector('tarpit', { issuer: `https://127.0.0.1:${blackholePort}` }, { timeouts: { connectMs: 300, totalMs: 20_000 } }),
    ]);
    app = await webApp(herald);
  });
  afterAll(async () => {
    await herald?.stop();
    for (const peer of [idp, impostor, sleepy, quiet]) await peer?.stop();
    for (const socket of blackholeSockets) socket.destroy();
    await new Promise((resolve) => blackhole?.close(resolve));
  });
  afterEach(() => idp.reset());

  /** Herald's failure page: a clear message, no internals, a way back to the app when there is one. */
  function expectFailurePage(page: BrowserResponse, status: number, message: RegExp): void {
    expect(page.url.startsWith(herald.issuer)).toBe(true);
    expect(page.status).toBe(status);
    expect(page.body).toContain('Sign-in failed');
    expect(page.body).toMatch(message);
    expect(page.body).not.toMatch(/\bat .+\.(js|ts):\d+|Error:|nonce|OAUTH_|openid-client|undici/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  }

  /** Follows the failure page's link back to the app; returns the app's callback URL. */
  async function backToApp(browser: TestBrowser, page: BrowserResponse): Promise<URL> {
    const link = /id="continue" href="([^"]+)"/.exec(page.body)?.[1]?.replace(/&amp;/g, '&');
    expect(link).toBeDefined();
    const done = await browser.go(new URL(link!, page.url).href, {}, (url) => url.startsWith(APP_REDIRECT));
    return new URL(done.url);
  }

  async function lastFailure(reason: string) {
    const events = await herald.audit.find({ type: 'login.failed' });
    return events.filter((e) => e.reason === reason).at(-1);
  }

  /** Signs in at the IdP and lets the browser run into Herald's answer (page or app callback). */
  async function throughIdp(connectorId = 'acme', peer = idp, decision: 'allow' | 'deny' = 'allow') {
    const browser = new TestBrowser();
    const start = await startAuthorization(app, { idp_hint: connectorId });
    const login = await toIdpLogin(browser, start.url, peer);
    const page = await peer.signIn(browser, login, 'alice', { decision, stopAt: (url) => url.startsWith(APP_REDIRECT) });
    return { browser, start, page };
  }

  test('the user cancels at the IdP (error=access_denied)', async () => {
    const { browser, page } = await throughIdp('acme', idp, 'deny');
    expectFailurePage(page, 403, /cancelled or refused/);
    const callback = await backToApp(browser, page);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(await lastFailure('upstream_access_denied')).toMatchObject({ connectorId: 'acme', clientId: 'web', outcome: 'failure' });
  });

  test.each([
    ['a nonce that is not the one sent', { nonce: 'attacker-chosen-nonce' }, 'nonce_mismatch'],
    ['an ID token from another issuer', { idTokenIssuer: 'https://login.evil.example' }, 'issuer_mismatch'],
    ['an RFC 9207 iss naming another issuer', { responseIssuer: 'https://login.evil.example' }, 'issuer_mismatch'],
    ['no RFC 9207 iss although the IdP advertises it', { responseIssuer: null }, 'issuer_missing'],
    ['an ID token signed with a key not in the JWKS', { signingKey: 'stranger' as const }, 'bad_signature'],
    ['an ID token signed by another key under the published kid', { signingKey: 'forged' as const }, 'bad_signature'],
    ['userinfo about another subject', { userinfoSubject: 'someone-else' }, 'subject_mismatch'],
  ])('the IdP returns %s', async (_label, misbehaviour, reason) => {
    idp.behave = misbehaviour;
    const { browser, page } = await throughIdp();
    expectFailurePage(page, 403, /could not be accepted/);
    const callback = await backToApp(browser, page);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
    expect(await lastFailure(reason)).toMatchObject({ connectorId: 'acme', clientId: 'web' });
  });

  test('a wrong RFC 9207 iss is refused before the code is redeemed', async () => {
    idp.behave = { responseIssuer: 'https://login.evil.example' };
    const tokenCalls = idp.count('token');
    await throughIdp();
    expect(idp.count('token')).toBe(tokenCalls);
  });

  test('an IdP that neither advertises nor sends iss is fine', async () => {
    const { start, callback } = await signIn(app, quiet, 'alice', { params: { idp_hint: 'quiet' } });
    const tokens = await redeem(app, callback, start);
    expect(tokens.claims()!.email).toBe('alice@acme.test');
  });

  test('a discovery document naming another issuer is refused', async () => {
    const browser = new TestBrowser();
    const start = await startAuthorization(app, { idp_hint: 'impostor' });
    const page = await browser.go(start.url);
    expectFailurePage(page, 403, /could not be accepted/);
    expect(impostor.count('authorization')).toBe(0);
    expect((await backToApp(browser, page)).searchParams.get('error')).toBe('access_denied');
    expect(await lastFailure('issuer_mismatch')).toMatchObject({ connectorId: 'impostor', clientId: 'web' });
  });

  describe('state', () => {
    test('a callback without state ends the sign-in this browser has waiting', async () => {
      const browser = new TestBrowser();
      const start = await startAuthorization(app, { idp_hint: 'acme' });
      const login = await toIdpLogin(browser, start.url, idp);
      const atCallback = await idp.signIn(browser, login, 'alice', { stopAt: (url) => url.startsWith(`${herald.issuer}/connectors/`) });
      const stripped = new URL(atCallback.url);
      stripped.searchParams.delete('state');
      const tokenCalls = idp.count('token');
      const page = await browser.go(stripped.href, {}, (url) => url.startsWith(APP_REDIRECT));
      expectFailurePage(page, 403, /could not be accepted/);
      expect((await backToApp(browser, page)).searchParams.get('error')).toBe('access_denied');
      expect(idp.count('token')).toBe(tokenCalls);
      expect(await lastFailure('state_missing')).toMatchObject({ connectorId: 'acme', clientId: 'web' });
    });

    test('an unsolicited callback (no state, no sign-in waiting) gets a page and nothing else', async () => {
      const page = await new TestBrowser().go(`${herald.issuer}/connectors/acme/callback?code=abc&iss=${encodeURIComponent(idp.issuer)}`);
      expectFailurePage(page, 400, /could not be accepted/);
      expect(page.body).not.toContain('id="continue"');
      expect(await lastFailure('state_missing')).toMatchObject({ connectorId: 'acme', clientId: null });
    });

    test('a callback replayed after the sign-in finished is refused', async () => {
      const browser = new TestBrowser();
      const start = await startAuthorization(app, { idp_hint: 'acme' });
      const login = await toIdpLogin(browser, start.url, idp);
      const atCallback = await idp.signIn(browser, login, 'alice', { stopAt: (url) => url.startsWith(`${herald.issuer}/connectors/`) });
      const done = await browser.go(atCallback.url, {}, (url) => url.startsWith(APP_REDIRECT));
      expect(new URL(done.url).searchParams.get('code')).toBeTruthy();
      const successes = (await herald.audit.find({ type: 'login.succeeded' })).length;
      const tokenCalls = idp.count('token');

      const replay = await browser.go(atCallback.url, {}, (url) => url.startsWith(APP_REDIRECT));
      expectFailurePage(replay, 400, /could not be accepted/);
      expect(idp.count('token')).toBe(tokenCalls);
      expect((await herald.audit.find({ type: 'login.succeeded' })).length).toBe(successes);
      expect(await lastFailure('state_unknown')).toMatchObject({ connectorId: 'acme' });
      // The app's own code still works exactly once.
      await expect(redeem(app, new URL(done.url), start)).resolves.toBeDefined();
    });

    test('a callback opened in another browser is refused before the code is redeemed, and nobody signs in', async () => {
      const victim = new TestBrowser();
      const start = await startAuthorization(app, { idp_hint: 'acme' });
      const login = await toIdpLogin(victim, start.url, idp);
      const atCallback = await idp.signIn(victim, login, 'alice', { stopAt: (url) => url.startsWith(`${herald.issuer}/connectors/`) });
      const tokenCalls = idp.count('token');

      const attacker = new TestBrowser();
      const stolen = await attacker.go(atCallback.url, {}, (url) => url.startsWith(APP_REDIRECT));
      expectFailurePage(stolen, 400, /could not be accepted/);
      expect(stolen.body).not.toContain('id="continue"');
      expect(idp.count('token')).toBe(tokenCalls);
      expect(await lastFailure('state_browser_mismatch')).toMatchObject({ connectorId: 'acme' });

      // The state is spent: the victim's browser cannot finish either, and its app hears access_denied.
      const late = await victim.go(atCallback.url, {}, (url) => url.startsWith(APP_REDIRECT));
      expectFailurePage(late, 403, /could not be accepted/);
      expect((await backToApp(victim, late)).searchParams.get('error')).toBe('access_denied');
      expect(idp.count('token')).toBe(tokenCalls);
    });

    test('the start link works once', async () => {
      const browser = new TestBrowser();
      const start = await startAuthorization(app, { idp_hint: 'acme' });
      const first = await browser.go(start.url, {}, (url) => url.includes('/connectors/acme/start'));
      const startLink = first.url;
      await browser.go(startLink);
      const again = await new TestBrowser().go(startLink);
      expectFailurePage(again, 400, /could not be accepted/);
      expect(await lastFailure('start_unknown')).toMatchObject({ connectorId: 'acme' });
    });
  });

  describe('an unavailable IdP', () => {
    test('an IdP that does not answer the token request in time: temporarily_unavailable', async () => {
      idp.behave = { hang: ['token'] };
      const { browser, page } = await throughIdp();
      expectFailurePage(page, 503, /not reachable right now/);
      expect((await backToApp(browser, page)).searchParams.get('error')).toBe('temporarily_unavailable');
      expect(await lastFailure('timeout')).toMatchObject({ connectorId: 'acme', clientId: 'web' });
    });

    test('an unreachable IdP: temporarily_unavailable', async () => {
      const browser = new TestBrowser();
      const page = await browser.go((await startAuthorization(app, { idp_hint: 'down' })).url);
      expectFailurePage(page, 503, /not reachable right now/);
      expect((await backToApp(browser, page)).searchParams.get('error')).toBe('temporarily_unavailable');
      expect(await lastFailure('unreachable')).toMatchObject({ connectorId: 'down', clientId: 'web' });
    });

    test('an IdP that accepts connections but never completes the handshake: connect timeout', async () => {
      const browser = new TestBrowser();
      const page = await browser.go((await startAuthorization(app, { idp_hint: 'tarpit' })).url);
      expectFailurePage(page, 503, /not reachable right now/);
      expect((await backToApp(browser, page)).searchParams.get('error')).toBe('temporarily_unavailable');
      // The connect timeout (300 ms) ended it, not the total timeout (20 s).
      expect(await lastFailure('connect_timeout')).toMatchObject({ connectorId: 'tarpit' });
    });

    test('an IdP that was down at boot is discovered on a later sign-in', async () => {
      const first = await new TestBrowser().go((await startAuthorization(app, { idp_hint: 'sleepy' })).url);
      expectFailurePage(first, 503, /not reachable right now/);
      expect(await lastFailure('timeout')).toMatchObject({ connectorId: 'sleepy' });

      sleepy.reset();
      const { start, callback } = await signIn(app, sleepy, 'alice', { params: { idp_hint: 'sleepy' } });
      const tokens = await redeem(app, callback, start);
      expect(tokens.claims()!.email).toBe('alice@acme.test');
    });
  });

  test('every failure is audited with a machine-readable reason and without secrets', async () => {
    const events = await herald.audit.find({ type: 'login.failed' });
    expect(events.length).toBeGreaterThan(10);
    for (const event of events) expect(event.reason).toMatch(/^[a-z_]+$/);
    // No secret or token reached the audit trail.
    expect(JSON.stringify(events)).not.toContain(IDP_SECRET);
  });
});
