/**
 * Two corporate IdPs behind one Herald: the login page lists the connectors a client may use;
 * idp_hint and login_hint email domains (home-realm discovery) pick the right one; a client
 * restricted to one connector cannot reach the other by any of these routes.
 */
import type { TestHerald } from '../../support/herald.js';
import { TestBrowser, findLink } from '../../support/browser.js';
import { startAuthorization, type ClientPeer } from '../../peers/client.js';
import { ALICE, APP_REDIRECT, APP_SECRET, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, signInAndRedeem, startBroker, webApp } from './oidc-fixtures.js';

describe('OIDC connectors: choosing the IdP', () => {
  let acme: UpstreamIdp;
  let globex: UpstreamIdp;
  let herald: TestHerald;
  let web: ClientPeer;
  let acmeOnly: ClientPeer;

  beforeAll(async () => {
    const broker = await reserveHerald();
    acme = await UpstreamIdp.start({
      name: 'Acme IdP',
      accounts: { alice: ALICE },
      clients: [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback('acme')] }],
    });
    globex = await UpstreamIdp.start({
      name: 'Globex IdP',
      conformIdTokenClaims: false,
      consent: false,
      accounts: { gina: { password: 'gina-pw', claims: { sub: 'gx-77', email: 'gina@globex.test', email_verified: true, name: 'Gina <Globex> & Co' } } },
      clients: [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback('globex')] }],
    });
    herald = await startBroker(
      broker.port,
      [
        oidcConnector('acme', acme, { name: 'Acme Corp', emailDomains: ['acme.test'] }),
        oidcConnector('globex', globex, { name: 'Globex <Partners>', emailDomains: ['globex.test', 'globex-partners.test'] }),
      ],
      { clients: [{ id: 'acme-only', name: 'Acme Intranet', secret: APP_SECRET, redirectUris: [APP_REDIRECT], apis: ['trading'], firstParty: true, connectors: ['acme'] }] as never },
    );
    web = await webApp(herald);
    acmeOnly = await webApp(herald, 'acme-only');
  });
  afterAll(async () => {
    await herald?.stop();
    await acme?.stop();
    await globex?.stop();
  });

  /** Where the browser lands when it follows the app's authorization URL. */
  async function landing(app: ClientPeer, params: Record<string, string> = {}, browser = new TestBrowser()) {
    const start = await startAuthorization(app, params);
    return browser.go(start.url);
  }

  test('the login page lists every connector the client may use, escaped, in a locked-down page', async () => {
    const page = await landing(web);
    expect(page.url).toMatch(new RegExp(`^${herald.issuer}/interaction/[^/]+$`));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Trading Web');
    expect(page.body).toContain('Sign in with Acme Corp');
    expect(page.body).toContain('Sign in with Globex &lt;Partners&gt;');
    expect(page.body).not.toContain('<Partners>');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.body).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
  });

  test('choosing a connector on the login page starts the sign-in at that IdP', async () => {
    const browser = new TestBrowser();
    const page = await landing(web, {}, browser);
    const next = await browser.go(new URL(findLink(page.body, /\/login\/globex$/), page.url).href);
    expect(next.url).toMatch(new RegExp(`^${globex.issuer}/interaction/`));
    expect(next.body).toContain('Globex IdP sign-in');
  });

  test.each([
    ['idp_hint=globex', { idp_hint: 'globex' }, 'globex'],
    ['idp_hint=acme', { idp_hint: 'acme' }, 'acme'],
    ['login_hint in a globex domain', { login_hint: 'gina@globex.test' }, 'globex'],
    ['login_hint in the second globex domain, upper case', { login_hint: 'Gina@GLOBEX-PARTNERS.TEST' }, 'globex'],
    ['login_hint in the acme domain', { login_hint: 'alice@acme.test' }, 'acme'],
    ['idp_hint over login_hint', { idp_hint: 'acme', login_hint: 'gina@globex.test' }, 'acme'],
  ])('%s goes straight to the right IdP', async (_label, params, expected) => {
    const page = await landing(web, params);
    const idp = expected === 'acme' ? acme : globex;
    expect(page.url).toMatch(new RegExp(`^${idp.issuer}/interaction/`));
    expect(page.hops.map((h) => new URL(h.url).pathname)).toContain(`/connectors/${expected}/start`);
  });

  test.each([
    ['an unknown idp_hint', { idp_hint: 'nope' }],
    ['a login_hint in an unmapped domain', { login_hint: 'someone@example.org' }],
    ['a login_hint that is not an email', { login_hint: 'alice' }],
  ])('%s shows the login page', async (_label, params) => {
    const page = await landing(web, params);
    expect(page.url).toMatch(new RegExp(`^${herald.issuer}/interaction/`));
    expect(page.body).toContain('Sign in with Acme Corp');
  });

  test('the login_hint is passed on to the IdP, which pre-fills its form', async () => {
    const page = await landing(web, { login_hint: 'gina@globex.test' });
    expect(globex.lastAuthorizationRequest()!.params.login_hint).toBe('gina@globex.test');
    expect(page.body).toContain('value="gina@globex.test"');
  });

  test('a sign-in through the second IdP yields its email and its own Herald account', async () => {
    const { tokens } = await signInAndRedeem(web, globex, 'gina', { params: { idp_hint: 'globex' } });
    expect(tokens.claims()).toMatchObject({ email: 'gina@globex.test', name: 'Gina <Globex> & Co' });
  });

  describe('a client restricted to one connector', () => {
    test('skips the login page and signs in through its connector', async () => {
      const { tokens, trail } = await signInAndRedeem(acmeOnly, acme, 'alice');
      expect(trail.some((url) => url.includes('/connectors/acme/start'))).toBe(true);
      expect(tokens.claims()!.email).toBe('alice@acme.test');
    });

    test.each([
      ['idp_hint', { idp_hint: 'globex' }],
      ['an email domain of the other IdP', { login_hint: 'gina@globex.test' }],
    ])('cannot reach the other IdP through %s', async (_label, params) => {
      const before = globex.count('authorization');
      const page = await landing(acmeOnly, params);
      expect(page.url).toMatch(new RegExp(`^${acme.issuer}/interaction/`));
      expect(globex.count('authorization')).toBe(before);
    });

    test('cannot pick the other connector by URL', async () => {
      const browser = new TestBrowser();
      const start = await startAuthorization(acmeOnly);
      const stopped = await browser.go(start.url, {}, (url) => url.includes('/connectors/acme/start'));
      const interaction = stopped.hops.map((h) => h.url).find((url) => /\/interaction\/[^/]+$/.test(new URL(url).pathname))!;
      const before = globex.count('authorization');
      const refused = await browser.go(`${interaction}/login/globex`);
      expect(refused.status).toBe(400);
      expect(refused.url).toBe(`${interaction}/login/globex`);
      expect(refused.body).toContain('not available');
      expect(globex.count('authorization')).toBe(before);
    });
  });

  test('cancelling on the login page returns access_denied to the app and is audited', async () => {
    const browser = new TestBrowser();
    const page = await landing(web, {}, browser);
    const done = await browser.submit(page, {}, { action: '/abort' }, (url) => url.startsWith(APP_REDIRECT));
    const callback = new URL(done.url);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('iss')).toBe(herald.issuer);
    const failed = await herald.audit.find({ type: 'login.failed' });
    expect(failed.some((e) => e.reason === 'cancelled_by_user' && e.clientId === 'web')).toBe(true);
  });
});
