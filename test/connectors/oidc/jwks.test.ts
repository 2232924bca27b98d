/**
 * The IdP's signing keys: an ID token signed with a key id Herald has not seen makes it refetch
 * the IdP's JWKS once — so a key rotation at the IdP just works — but at most once per cooldown,
 * so a stream of unknown key ids cannot turn Herald into a JWKS-fetching machine.
 */
import type { TestHerald } from '../../support/herald.js';
import { TestBrowser } from '../../support/browser.js';
import { redeem, startAuthorization, type ClientPeer } from '../../peers/client.js';
import { ALICE, APP_REDIRECT, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, signIn, startBroker, toIdpLogin, webApp } from './oidc-fixtures.js';

describe('OIDC connector: upstream signing keys', () => {
  let idp: UpstreamIdp;
  let herald: TestHerald;
  let app: ClientPeer;

  beforeAll(async () => {
    const broker = await reserveHerald();
    idp = await UpstreamIdp.start({
      accounts: { alice: ALICE },
      consent: false,
      clients: [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback('patient'), broker.callback('eager')] }],
    });
    herald = await startBroker(broker.port, [
      oidcConnector('patient', idp, { jwksCooldownSeconds: 3600 }),
      oidcConnector('eager', idp, { jwksCooldownSeconds: 0 }),
    ]);
    app = await webApp(herald);
  });
  afterAll(async () => {
    await herald?.stop();
    await idp?.stop();
  });

  async function attempt(connectorId: string): Promise<{ ok: boolean; reason?: string }> {
    const browser = new TestBrowser();
    const start = await startAuthorization(app, { idp_hint: connectorId });
    const login = await toIdpLogin(browser, start.url, idp);
    const page = await idp.signIn(browser, login, 'alice', { stopAt: (url) => url.startsWith(APP_REDIRECT) });
    if (page.url.startsWith(APP_REDIRECT)) {
      await redeem(app, new URL(page.url), start);
      return { ok: true };
    }
    const failed = await herald.audit.find({ type: 'login.failed' });
    return { ok: false, reason: failed.at(-1)?.reason ?? undefined };
  }

  test('an unknown kid refetches the JWKS at most once per cooldown', async () => {
    idp.reset();
    expect(await attempt('patient')).toEqual({ ok: true });
    const fetched = idp.count('jwks');

    idp.behave = { signingKey: 'rotated' };
    expect(await attempt('patient')).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await attempt('patient')).toEqual({ ok: false, reason: 'bad_signature' });
    // The cached set was fetched moments ago: no refetch inside the cooldown.
    expect(idp.count('jwks')).toBe(fetched);
  });

  test('a key rotation at the IdP is picked up with one refetch', async () => {
    idp.reset();
    expect(await attempt('eager')).toEqual({ ok: true });
    const fetched = idp.count('jwks');

    idp.behave = { signingKey: 'rotated', publishRotatedKey: true };
    expect(await attempt('eager')).toEqual({ ok: true });
    expect(idp.count('jwks')).toBe(fetched + 1);
    // Now cached: no further fetch for the new key.
    expect(await attempt('eager')).toEqual({ ok: true });
    expect(idp.count('jwks')).toBe(fetched + 1);
  });

  test('a key that is not published after the refetch is refused, with exactly one refetch', async () => {
    idp.reset();
    expect(await attempt('eager')).toEqual({ ok: true });
    idp.behave = { signingKey: 'stranger' };
    const fetched = idp.count('jwks');
    expect(await attempt('eager')).toEqual({ ok: false, reason: 'bad_signature' });
    expect(idp.count('jwks')).toBe(fetched + 1);
  });

  test('the patient connector keeps working with the published key', async () => {
    idp.reset();
    const { start, callback } = await signIn(app, idp, 'alice', { params: { idp_hint: 'patient' } });
    await expect(redeem(app, callback, start)).resolves.toBeDefined();
  });
});
