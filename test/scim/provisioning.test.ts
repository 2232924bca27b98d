/**
 * End to end: accounts provisioned over SCIM before anyone signs in; people sign in through the
 * corporate IdP (upstream OIDC peer, oidc-provider) and are bound to their provisioned account by
 * the configured rule (externalId = upstream subject, or a verified email); their access tokens
 * carry user_id, roles and locations from the account and a claim from an external API (a real
 * HTTP peer), whose failure modes behave as configured when it is down; deactivation over SCIM
 * stops refresh and sign-in.
 */
import { decodeJwt } from 'jose';
import type { HeraldConfigInput } from '../../src/config/config.schema.js';
import { startHerald, type TestHerald } from '../support/herald.js';
import { browseToCallback, oidc, startAuthorization, type ClientPeer } from '../peers/client.js';
import { TestBrowser } from '../support/browser.js';
import { ClaimsApi } from '../peers/claims-api.js';
import { ALICE, BOB, APP_REDIRECT, APP_SECRET, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, signIn, signInAndRedeem, toIdpLogin, webApp } from '../connectors/oidc/oidc-fixtures.js';
import { HERALD, ScimClient, patchOp, scimConfig } from './scim-support.js';

const API_KEY = 'settings-api-key-0123456789abcdef';

/** An employee whose IdP email is not verified, but equals a provisioned account's email. */
const MALLORY = { password: 'mallory-pw', claims: { sub: 'acme-0666', email: 'carol@acme.test', email_verified: false, name: 'Mallory' } };

describe('SCIM-provisioned accounts signing in through the corporate IdP', () => {
  let idp: UpstreamIdp;
  let api: ClaimsApi;
  let herald: TestHerald;
  let app: ClientPeer;
  let scim: ScimClient;
  let alice: any;
  let bob: any;
  let carol: any;

  beforeAll(async () => {
    const broker = await reserveHerald();
    api = await ClaimsApi.start({ apiKey: API_KEY });
    idp = await UpstreamIdp.start({
      name: 'Acme IdP',
      accounts: { alice: ALICE, bob: BOB, mallory: MALLORY },
      clients: [
        { clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback('acme'), broker.callback('acme-mail'), broker.callback('acme-norule')] },
      ],
      consent: false,
    });
    const settings = (id: string, onFailure: string) => ({
      id,
      url: `${api.origin}/users/{account.userId}/settings`,
      auth: { type: 'header' as const, name: 'x-api-key', value: API_KEY },
      cacheTtlSeconds: 0,
      onFailure: onFailure as 'fail' | 'omit' | 'stale',
    });
    const config = (issuer: string): HeraldConfigInput =>
      scimConfig(issuer, {
        apis: [{ id: 'trading', identifier: 'https://api.example.com/trading', scopes: ['trades', 'trades.strict', 'trades.lenient'], accessTokenTtl: 600 }],
        scopes: {
          trades: {
            claims: [
              { name: 'user_id', from: 'account', attribute: 'userId' },
              'roles',
              'locations',
              { name: 'desk', from: 'provider', provider: 'settings-stale' },
            ],
          },
          'trades.strict': { claims: [{ name: 'user_id', from: 'account', attribute: 'userId' }, { name: 'desk', from: 'provider', provider: 'settings-fail' }] },
          'trades.lenient': { claims: [{ name: 'user_id', from: 'account', attribute: 'userId' }, { name: 'desk', from: 'provider', provider: 'settings-omit' }] },
        },
        claimProviders: [settings('settings-stale', 'stale'), settings('settings-fail', 'fail'), settings('settings-omit', 'omit')],
        clients: [{ id: 'web', secret: APP_SECRET, redirectUris: [APP_REDIRECT], apis: ['trading'], firstParty: true }],
        connectors: [oidcConnector('acme', idp), oidcConnector('acme-mail', idp), oidcConnector('acme-norule', idp)] as HeraldConfigInput['connectors'],
        accountLinking: { byExternalId: ['acme'], byVerifiedEmail: ['acme-mail'] },
      });
    herald = await startHerald(config, { port: broker.port });
    app = await webApp(herald);
    scim = await ScimClient.connect(herald);

    // Provisioned before anyone signs in: Alice by her IdP subject, Bob and Carol by email.
    alice = await scim.createUser({
      userName: 'alice.archer@acme.test',
      externalId: ALICE.claims.sub,
      name: { givenName: 'Alice', familyName: 'Archer' },
      [HERALD]: { userId: 2998, roles: ['trader'], locations: ['NY'] },
    });
    bob = await scim.createUser({ userName: 'bob', emails: [{ value: 'Bob@Acme.test', type: 'work', primary: true }], [HERALD]: { userId: 3001, roles: ['risk'], locations: ['LDN'] } });
    carol = await scim.createUser({ userName: 'carol', emails: [{ value: 'carol@acme.test', type: 'work', primary: true }], [HERALD]: { userId: 3002 } });
    api.settings.set('2998', { desk: 'NY-EQ' });
    api.settings.set('3001', { desk: 'LDN-RATES' });
  });
  afterAll(async () => {
    await herald?.stop();
    await idp?.stop();
    await api?.stop();
  });
  beforeEach(() => api.reset());

  const usersCount = async () => Number((await herald.dataSource.query('SELECT COUNT(*) AS n FROM users'))[0].n);

  test('binding by externalId: the first sign-in lands on the provisioned account, with its claims and an API claim', async () => {
    const before = await usersCount();
    const { tokens } = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid offline_access trades', idp_hint: 'acme' } });
    const token = decodeJwt(tokens.access_token);
    expect(token).toMatchObject({ sub: alice.id, scope: 'trades', user_id: 2998, roles: ['trader'], locations: ['NY'], desk: 'NY-EQ' });
    expect(await usersCount()).toBe(before);
    const [linked] = await herald.audit.find({ type: 'user.linked', userId: alice.id });
    expect(linked).toMatchObject({ connectorId: 'acme', clientId: 'web', data: { rule: 'external_id' } });
    // The link is visible on the SCIM resource; the provisioned profile was not overwritten.
    const resource = (await scim.get(`/Users/${alice.id}`)).body;
    expect(resource[HERALD].links).toEqual([{ connector: 'acme', subject: 'acme-0001', created: expect.any(String), lastLogin: expect.any(String) }]);
    expect(resource.userName).toBe('alice.archer@acme.test');
    expect(resource).not.toHaveProperty('emails');
    // A second sign-in uses the link.
    const again = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid trades', idp_hint: 'acme' } });
    expect(decodeJwt(again.tokens.access_token).sub).toBe(alice.id);
  });

  test('binding by verified email, only through the connectors the rule names', async () => {
    const { tokens } = await signInAndRedeem(app, idp, 'bob', { params: { scope: 'openid trades', idp_hint: 'acme-mail' } });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: bob.id, user_id: 3001, roles: ['risk'], locations: ['LDN'], desk: 'LDN-RATES' });
    const [linked] = await herald.audit.find({ type: 'user.linked', userId: bob.id });
    expect(linked).toMatchObject({ connectorId: 'acme-mail', data: { rule: 'verified_email' } });

    // acme-norule has no linking rule: the same person becomes a separate, just-in-time account.
    const before = await usersCount();
    const other = await signInAndRedeem(app, idp, 'bob', { params: { scope: 'openid trades', idp_hint: 'acme-norule' } });
    expect(decodeJwt(other.tokens.access_token).sub).not.toBe(bob.id);
    expect(await usersCount()).toBe(before + 1);
  });

  test('an unverified upstream email does not capture a provisioned account', async () => {
    const { tokens } = await signInAndRedeem(app, idp, 'mallory', { params: { scope: 'openid trades', idp_hint: 'acme-mail' } });
    const token = decodeJwt(tokens.access_token);
    expect(token.sub).not.toBe(carol.id);
    expect(token).not.toHaveProperty('user_id');
    expect((await scim.get(`/Users/${carol.id}`)).body[HERALD]).toEqual({ userId: 3002 });
  });

  test('with the settings API down, each provider behaves as configured', async () => {
    // A good answer first, so that the stale provider has something to serve.
    expect(decodeJwt((await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid trades', idp_hint: 'acme' } })).tokens.access_token).desk).toBe('NY-EQ');
    await api.stop();
    try {
      const stale = decodeJwt((await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid trades', idp_hint: 'acme' } })).tokens.access_token);
      expect(stale).toMatchObject({ user_id: 2998, desk: 'NY-EQ' });

      const lenient = decodeJwt((await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid trades.lenient', idp_hint: 'acme' } })).tokens.access_token);
      expect(lenient).toMatchObject({ user_id: 2998 });
      expect(lenient).not.toHaveProperty('desk');

      const strict = await signIn(app, idp, 'alice', { params: { scope: 'openid trades.strict', idp_hint: 'acme' } });
      const error = await oidc
        .authorizationCodeGrant(app.config, strict.callback, { pkceCodeVerifier: strict.start.verifier, expectedState: strict.start.state, expectedNonce: strict.start.nonce })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ error: 'temporarily_unavailable' });

      const failures = (await herald.audit.find({ type: 'claims.provider_failed', userId: alice.id })).slice(-3);
      expect(failures.map((f) => [(f.data as any).provider, (f.data as any).outcome, f.reason])).toEqual([
        ['settings-stale', 'stale', 'unreachable'],
        ['settings-omit', 'omitted', 'unreachable'],
        ['settings-fail', 'failed', 'unreachable'],
      ]);
    } finally {
      await api.listen();
    }
  });

  test('deactivating the user over SCIM makes the next refresh fail and stops sign-in', async () => {
    const { tokens } = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid offline_access trades', idp_hint: 'acme' } });
    const refreshed = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ sub: alice.id, user_id: 2998 });

    const off = await scim.patch(`/Users/${alice.id}`, patchOp({ op: 'Replace', path: 'active', value: 'False' }));
    expect(off.body.active).toBe(false);
    const refused = await oidc.refreshTokenGrant(app.config, refreshed.refresh_token!).catch((e: unknown) => e);
    expect(refused).toMatchObject({ error: 'invalid_grant' });

    // Herald shows why, and the button returns the error to the application.
    const browser = new TestBrowser();
    const start = await startAuthorization(app, { scope: 'openid trades', idp_hint: 'acme' });
    const page = await idp.signIn(browser, await toIdpLogin(browser, start.url, idp), 'alice', { stopAt: (url) => url.startsWith(app.redirectUri) });
    expect(page.status).toBe(403);
    expect(page.body).toContain('Your account is deactivated.');
    const continueUrl = /id="continue" href="([^"]+)"/.exec(page.body)![1]!.replace(/&amp;/g, '&');
    const back = await browseToCallback(browser, new URL(continueUrl, page.url).href, app.redirectUri);
    expect(back.callback?.searchParams.get('error')).toBe('access_denied');
    const [event] = (await herald.audit.find({ type: 'login.denied', userId: alice.id })).slice(-1);
    expect(event).toMatchObject({ reason: 'account_inactive', connectorId: 'acme' });

    // Reactivated, the account signs in again.
    await scim.patch(`/Users/${alice.id}`, patchOp({ op: 'replace', value: { active: true } }));
    const again = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid trades', idp_hint: 'acme' } });
    expect(decodeJwt(again.tokens.access_token).sub).toBe(alice.id);
  });

  test('deleting the user over SCIM ends its sessions and refresh tokens; a re-provisioned account is bound again', async () => {
    const { tokens } = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid offline_access trades', idp_hint: 'acme' } });
    expect(decodeJwt(tokens.access_token).sub).toBe(alice.id);
    expect((await scim.delete(`/Users/${alice.id}`)).status).toBe(204);
    const [rows] = await herald.dataSource.query(`SELECT COUNT(*) AS n FROM oidc_payloads WHERE account_id = '${alice.id}'`);
    expect(Number(rows.n)).toBe(0);
    expect(await oidc.refreshTokenGrant(app.config, tokens.refresh_token!).catch((e: unknown) => e)).toMatchObject({ error: 'invalid_grant' });

    const reprovisioned = await scim.createUser({ userName: 'alice.archer@acme.test', externalId: ALICE.claims.sub, [HERALD]: { userId: 4000 } });
    const next = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid trades', idp_hint: 'acme' } });
    expect(decodeJwt(next.tokens.access_token)).toMatchObject({ sub: reprovisioned.id, user_id: 4000 });
  });
});
