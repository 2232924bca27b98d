/**
 * Replays, with two Herald instances on one database behind the same public URL (as behind a
 * load balancer): a consumed response is refused on either instance, two concurrent deliveries
 * sign in at most once, and an accepted IdP-initiated response cannot be used twice. Also: any
 * instance finishes a sign-in another one started (requests are in the database).
 */
import { startHerald, type TestHerald } from '../../support/herald.js';
import { redeem } from '../../peers/client.js';
import { DatabaseFlowStateStore } from '../../../src/connectors/flow-state.store.js';
import { heraldConfig, postToAcs, rejections, startSetup, toIdpAnswer, unb64, type Setup, type SetupOptions } from './saml-fixtures.js';

const LANDING = 'http://127.0.0.1:9/app/login';

describe('SAML connector: replay across instances', () => {
  let setup: Setup;
  let second: TestHerald;
  const options: SetupOptions = {
    more: () => ({ 'p-idp-initiated': { allowUnsolicited: true, unsolicitedLandingUrl: LANDING } }),
  };

  beforeAll(async () => {
    setup = await startSetup(options);
    // Same config, same public issuer, same database: a second instance of the same deployment.
    second = await startHerald(() => heraldConfig(setup.herald.issuer, setup.idp, setup.keys, options), { shareDatabaseWith: setup.herald });
  });
  afterAll(async () => {
    await second?.stop();
    await setup?.stop();
  });

  const viaSecond = () => ({ origin: second.url });
  /** Both instances write audit events to the shared table; flush the second's buffer and read it once. */
  const allRejections = async () => {
    await second.audit.flush();
    return rejections(setup.herald);
  };

  test('a sign-in started on one instance is finished by the other; replaying its response on either is refused', async () => {
    const at = await toIdpAnswer(setup);
    const first = await postToAcs(setup, at, {}, viaSecond());
    expect(first.acs.status).toBe(303);
    expect(first.callback?.searchParams.get('code')).toBeTruthy();
    const tokens = await redeem(setup.app, first.callback!, at.start);
    expect(tokens.access_token).toEqual(expect.any(String));

    for (const via of [undefined, viaSecond()]) {
      const before = (await allRejections()).length;
      const again = await postToAcs(setup, at, {}, via);
      expect(again.callback?.searchParams.get('code') ?? null).toBeNull();
      const events = await allRejections();
      expect(events).toHaveLength(before + 1);
      expect(events.at(-1)?.reason).toBe('replay');
    }
  });

  test('the same response delivered four times at once to both instances signs in exactly once', async () => {
    const at = await toIdpAnswer(setup);
    const before = (await allRejections()).length;
    const body = new URLSearchParams(at.form.fields);
    const post = (origin: string) =>
      fetch(`${origin}${new URL(at.form.action).pathname}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    const answers = await Promise.all([post(setup.herald.url), post(second.url), post(setup.herald.url), post(second.url)]);
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303, 303]);
    expect((await allRejections()).slice(before).map((e) => e.reason)).toEqual(['replay', 'replay', 'replay']);
    // Each answer hands over to the interaction: one identity, three failures.
    const pending = setup.herald.app.get(DatabaseFlowStateStore).scoped('pending');
    const kinds = await Promise.all(answers.map(async (a) => (await pending.peek(new URL(a.headers.get('location')!, setup.herald.url).searchParams.get('k')!))?.kind));
    expect(kinds.filter((k) => k === 'identity')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'failure')).toHaveLength(3);
  });

  test('an accepted IdP-initiated response sends the browser to the landing URL once; its replay is refused', async () => {
    const { idp } = setup;
    idp.useSp(`${setup.herald.issuer}/connectors/p-idp-initiated/metadata`);
    idp.settings = { sign: 'both' };
    const { samlResponse, acsUrl } = await idp.buildResponse(null);
    expect(unb64(samlResponse)).not.toContain('InResponseTo');
    const post = (origin: string) =>
      fetch(`${origin}${new URL(acsUrl).pathname}`, { method: 'POST', body: new URLSearchParams({ SAMLResponse: samlResponse }), redirect: 'manual' });

    const first = await post(setup.herald.url);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(LANDING);

    const before = (await allRejections()).length;
    const again = await post(second.url);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('Sign-in failed');
    expect((await allRejections()).slice(before).map((e) => e.reason)).toEqual(['replay']);

    // Its expired twin is refused even though node-saml skips SubjectConfirmationData times without InResponseTo.
    idp.settings = { sign: 'both', over: { scdNotOnOrAfter: new Date(Date.now() - 600_000).toISOString() } };
    const stale = await idp.buildResponse(null);
    const expired = await fetch(`${setup.herald.url}${new URL(acsUrl).pathname}`, { method: 'POST', body: new URLSearchParams({ SAMLResponse: stale.samlResponse }), redirect: 'manual' });
    expect(expired.status).toBe(400);
    expect((await allRejections()).at(-1)?.reason).toBe('expired');
  });
});
