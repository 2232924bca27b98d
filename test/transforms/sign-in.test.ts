/**
 * Acceptance: a brokered sign-in through a real upstream OpenID provider (oidc-provider peer)
 * where the shipped transform `corporate-groups` maps upstream `groups` to `roles` and adds
 * `user_id` from the linked account. The access token carries them under the scope that lists
 * them and not otherwise; refresh brings them back without another upstream sign-in; a denial
 * ends the sign-in with access_denied; a second client reached through the session (SSO, no login
 * step) gets its own transform chain run at the consent step.
 */
import { decodeJwt } from 'jose';
import type { TestHerald } from '../support/herald.js';
import { baseConfig, startHerald } from '../support/herald.js';
import { freePort } from '../support/ports.js';
import { TestBrowser, findForm } from '../support/browser.js';
import { clientPeer, oidc, redeem, startAuthorization, type ClientPeer } from '../peers/client.js';
import { UpstreamIdp, type UpstreamAccount } from '../peers/upstream-oidc.js';
import { UsersRepository } from '../../src/users/users.repository.js';
import { ClaimSnapshotStore } from '../../src/claims/claim-snapshot.store.js';
import { followFailure, runsOf, transformsDir } from './transforms-support.js';

const WEB_SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const PORTAL_SECRET = 'portal-secret-0123456789abcdef-0123456789';
const IDP_SECRET = 'herald-at-the-idp-secret-0123456789abcdef';
const WEB_REDIRECT = 'http://127.0.0.1:9/web/callback';
const PORTAL_REDIRECT = 'http://127.0.0.1:9/portal/callback';
const KIOSK_SECRET = 'kiosk-secret-0123456789abcdef-0123456789ab';
const KIOSK_REDIRECT = 'http://127.0.0.1:9/kiosk/callback';

const ALICE: UpstreamAccount = {
  password: 'alice-pw',
  claims: { sub: 'acme-0001', email: 'alice@acme.test', email_verified: true, name: 'Alice Archer', given_name: 'Alice', groups: ['Traders', 'EU-Desk', 'canteen'] },
  amr: ['pwd'],
};
const MALLORY: UpstreamAccount = {
  password: 'mallory-pw',
  claims: { sub: 'acme-0666', email: 'mallory@acme.test', email_verified: true, name: 'Mallory', groups: ['contractors'] },
};

// Bound to the portal client only: runs after corporate-groups and reads the claims it produced.
const PORTAL_TIER = `import { defineTransform, strings } from '@herald/transform';
export default defineTransform({
  run({ claims, client }) {
    const roles = strings(claims.roles);
    return { claims: { portal_tier: roles.includes('trader') ? 'pro' : 'basic', portal_client: client.id } };
  },
});
`;

// Bound to the kiosk client instead of the connector's chain: nobody signed in upstream may use it.
const KIOSK_ONLY = `import { defineTransform } from '@herald/transform';
export default defineTransform({
  run: () => ({ deny: 'the kiosk is closed' }),
});
`;

describe('claim transforms: sign-in through an upstream OpenID provider', () => {
  let idp: UpstreamIdp;
  let herald: TestHerald;
  let web: ClientPeer;
  let portal: ClientPeer;
  let kiosk: ClientPeer;
  let aliceId: string;

  beforeAll(async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    idp = await UpstreamIdp.start({
      name: 'Acme IdP',
      accounts: { alice: ALICE, mallory: MALLORY },
      clients: [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [`${issuer}/connectors/corp/callback`] }],
      consent: false,
    });
    const directory = transformsDir({ 'portal-tier': PORTAL_TIER, 'kiosk-only': KIOSK_ONLY }, ['corporate-groups']);
    herald = await startHerald(
      (ownIssuer) => ({
        ...baseConfig(ownIssuer),
        scopes: {
          trades: { description: 'Trade', claims: ['roles', 'user_id', 'given_name', 'portal_tier'] },
          'trades:read': { claims: [{ name: 'tier', value: 'gold' }] },
        },
        clients: [
          { id: 'web', secret: WEB_SECRET, redirectUris: [WEB_REDIRECT], apis: ['trading'], firstParty: true },
          { id: 'portal', name: 'Portal', secret: PORTAL_SECRET, redirectUris: [PORTAL_REDIRECT], apis: ['trading'] },
          { id: 'kiosk', name: 'Kiosk', secret: KIOSK_SECRET, redirectUris: [KIOSK_REDIRECT], apis: ['trading'], firstParty: true },
        ],
        connectors: [{ type: 'oidc', id: 'corp', name: 'Acme', issuer: idp.issuer, clientId: 'herald', clientSecret: IDP_SECRET, transforms: ['corporate-groups'] }],
        accountLinking: { byExternalId: ['corp'] },
        transforms: {
          directory,
          bindings: [
            { client: 'portal', transforms: ['portal-tier'] },
            { client: 'kiosk', transforms: ['kiosk-only'], mode: 'replace' },
          ],
        },
      }),
      { port },
    );
    // HR provisioned Alice with her business id; the first sign-in binds to this account.
    const alice = await new UsersRepository(herald.dataSource).create({ userName: 'alice', externalId: 'acme-0001', custom: { userId: 2998 } });
    aliceId = alice.id;
    web = await clientPeer(herald.issuer, 'web', WEB_SECRET, WEB_REDIRECT);
    portal = await clientPeer(herald.issuer, 'portal', PORTAL_SECRET, PORTAL_REDIRECT);
    kiosk = await clientPeer(herald.issuer, 'kiosk', KIOSK_SECRET, KIOSK_REDIRECT);
  });
  afterAll(async () => {
    await herald?.stop();
    await idp?.stop();
  });

  /** app → Herald → IdP login → Herald (transforms) → app; the callback, or the page where it stopped. */
  async function signIn(app: ClientPeer, username: string, scope: string, browser = new TestBrowser()) {
    const start = await startAuthorization(app, { scope });
    let callback: URL | undefined;
    const atApp = (url: string) => {
      if (url.startsWith(app.redirectUri)) callback = new URL(url);
      return !!callback;
    };
    let page = await browser.go(start.url, {}, (url) => atApp(url) || url.startsWith(`${idp.issuer}/interaction/`));
    if (!callback) page = await browser.go(page.url, {}, atApp); // the IdP's login page
    if (!callback) page = await idp.signIn(browser, page, username, { stopAt: atApp });
    return { browser, start, callback, page };
  }

  test('upstream groups become roles and user_id comes from the account, under the scope that lists them', async () => {
    const { callback, start } = await signIn(web, 'alice', 'openid trades');
    expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    const tokens = await redeem(web, callback!, start);
    const access = decodeJwt(tokens.access_token);
    expect(access.sub).toBe(aliceId);
    expect(access).toMatchObject({ scope: 'trades', roles: ['desk:eu', 'trader'], user_id: 2998, given_name: 'Alice' });
    // Where each claim came from: the transform file and line, kept with the claim snapshot.
    const snapshot = await new ClaimSnapshotStore(herald.dataSource).get(aliceId, 'web');
    expect(snapshot?.origins.roles).toMatch(/^transform:.*corporate-groups\.ts:\d+$/);
    expect(snapshot?.origins.user_id).toMatch(/^transform:.*corporate-groups\.ts:\d+$/);
  });

  test('a scope that does not list them gets neither roles nor user_id', async () => {
    const { callback, start } = await signIn(web, 'alice', 'openid trades:read');
    const access = decodeJwt((await redeem(web, callback!, start)).access_token);
    expect(access).toMatchObject({ scope: 'trades:read', tier: 'gold' });
    expect(access).not.toHaveProperty('roles');
    expect(access).not.toHaveProperty('user_id');
  });

  test('claims come back on refresh without re-running the upstream sign-in or the transform', async () => {
    const { callback, start } = await signIn(web, 'alice', 'openid offline_access trades');
    const tokens = await redeem(web, callback!, start);
    const idpAuthorizations = idp.count('authorization');
    const idpTokens = idp.count('token');
    const transformRuns = runsOf(herald, 'corporate-groups');
    const refreshed = await oidc.refreshTokenGrant(web.config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ sub: aliceId, roles: ['desk:eu', 'trader'], user_id: 2998 });
    expect(idp.count('authorization')).toBe(idpAuthorizations);
    expect(idp.count('token')).toBe(idpTokens);
    expect(runsOf(herald, 'corporate-groups')).toBe(transformRuns);
  });

  test('a denial ends the sign-in: generic page, access_denied to the client, login.denied with the reason', async () => {
    const { callback, page, browser } = await signIn(web, 'mallory', 'openid trades');
    expect(callback).toBeUndefined();
    expect(page.status).toBe(403);
    expect(page.body).toContain('denied by policy');
    expect(page.body).not.toContain('grants a role');
    const back = await followFailure(browser, page, web);
    expect(back.searchParams.get('error')).toBe('access_denied');
    const denied = (await herald.audit.find({ type: 'login.denied' })).find((e) => e.reason === 'transform_denied');
    expect(denied?.data).toMatchObject({ transform: 'corporate-groups', message: 'none of the upstream groups grants a role' });
  });

  test('SSO: a second client reached without a login step gets its own transform chain at consent', async () => {
    const browser = new TestBrowser();
    const first = await signIn(web, 'alice', 'openid trades', browser);
    expect(first.callback).toBeDefined();
    const idpAuthorizations = idp.count('authorization');
    const portalRuns = runsOf(herald, 'portal-tier');

    const start = await startAuthorization(portal, { scope: 'openid trades' });
    let callback: URL | undefined;
    const consent = await browser.go(start.url, {}, (url) => !!(callback = url.startsWith(PORTAL_REDIRECT) ? new URL(url) : undefined));
    expect(findForm(consent.body, { action: '/consent' })).toBeDefined();
    await browser.submit(consent, { decision: 'allow' }, { action: '/consent' }, (url) => !!(callback = url.startsWith(PORTAL_REDIRECT) ? new URL(url) : undefined));
    expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    expect(idp.count('authorization')).toBe(idpAuthorizations); // no second upstream sign-in
    expect(runsOf(herald, 'portal-tier')).toBe(portalRuns + 1);

    const access = decodeJwt((await redeem(portal, callback!, start)).access_token);
    expect(access).toMatchObject({ sub: aliceId, client_id: 'portal', roles: ['desk:eu', 'trader'], user_id: 2998, portal_tier: 'pro' });
    // The web client's token never gets the portal-only claim.
    const again = await signIn(web, 'alice', 'openid trades', browser);
    expect(decodeJwt((await redeem(web, again.callback!, again.start)).access_token)).not.toHaveProperty('portal_tier');
  });

  test('SSO cannot skip a transform: a second client whose chain denies is refused without a login step', async () => {
    const browser = new TestBrowser();
    expect((await signIn(web, 'alice', 'openid trades', browser)).callback).toBeDefined();
    const start = await startAuthorization(kiosk, { scope: 'openid trades' });
    let callback: URL | undefined;
    const page = await browser.go(start.url, {}, (url) => !!(callback = url.startsWith(KIOSK_REDIRECT) ? new URL(url) : undefined));
    expect(callback).toBeUndefined();
    expect(page.status).toBe(403);
    expect((await followFailure(browser, page, kiosk)).searchParams.get('error')).toBe('access_denied');
    const denied = (await herald.audit.find({ type: 'login.denied' })).filter((e) => e.clientId === 'kiosk');
    expect(denied.at(-1)).toMatchObject({ reason: 'transform_denied', data: { transform: 'kiosk-only', message: 'the kiosk is closed' } });
  });
});
