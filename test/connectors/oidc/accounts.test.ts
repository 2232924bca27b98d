/**
 * Accounts behind brokered sign-ins: one Herald user per (connector, upstream subject), created
 * just in time, with Herald's own id as `sub`; a second upstream joins an existing account only
 * through the configured rule and only on a verified email.
 */
import type { TestHerald } from '../../support/herald.js';
import type { ClientPeer } from '../../peers/client.js';
import { UsersRepository } from '../../../src/users/users.repository.js';
import { ALICE, BOB, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, signInAndRedeem, startBroker, webApp } from './oidc-fixtures.js';

describe('OIDC connector: accounts', () => {
  let acme: UpstreamIdp;
  let globex: UpstreamIdp;
  let initech: UpstreamIdp;
  let herald: TestHerald;
  let app: ClientPeer;
  let users: UsersRepository;

  const aliceAtGlobex = { password: 'pw', claims: { sub: 'gx-alice', email: 'alice@acme.test', email_verified: true, name: 'Alice A.' } };
  const unverifiedAlice = { password: 'pw', claims: { sub: 'gx-eve', email: 'alice@acme.test', email_verified: false, name: 'Not Alice' } };
  const stringVerifiedAlice = { password: 'pw', claims: { sub: 'gx-mallory', email: 'alice@acme.test', email_verified: 'true', name: 'Also Not Alice' } };
  const bob = { ...BOB, claims: { ...BOB.claims } };
  const sameSubAsBob = { password: 'pw', claims: { sub: BOB.claims.sub, email: 'robert@globex.test', email_verified: true } };
  const carolAtInitech = { password: 'pw', claims: { sub: 'in-carol', email: 'carol@corp.example', email_verified: true, given_name: 'Carol' } };
  const carolAtGlobex = { password: 'pw', claims: { sub: 'gx-carol', email: 'carol@corp.example', email_verified: true, given_name: 'Carol' } };

  beforeAll(async () => {
    const broker = await reserveHerald();
    const registration = (id: string) => [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback(id)] }];
    acme = await UpstreamIdp.start({ accounts: { alice: ALICE, bob }, clients: registration('acme'), consent: false });
    globex = await UpstreamIdp.start({
      accounts: { alice: aliceAtGlobex, eve: unverifiedAlice, mallory: stringVerifiedAlice, robert: sameSubAsBob, carol: carolAtGlobex },
      clients: registration('globex'),
      consent: false,
    });
    initech = await UpstreamIdp.start({ accounts: { alice: { ...aliceAtGlobex, claims: { ...aliceAtGlobex.claims, sub: 'in-alice' } }, carol: carolAtInitech }, clients: registration('initech'), consent: false });
    herald = await startBroker(
      broker.port,
      [oidcConnector('acme', acme), oidcConnector('globex', globex), oidcConnector('initech', initech)],
      // acme and globex are trusted for email linking; initech is not.
      { accountLinking: { byVerifiedEmail: ['acme', 'globex'] } },
    );
    app = await webApp(herald);
    users = new UsersRepository(herald.dataSource);
  });
  afterAll(async () => {
    await herald?.stop();
    for (const idp of [acme, globex, initech]) await idp?.stop();
  });

  const subOf = async (idp: UpstreamIdp, connectorId: string, username: string) => {
    const { tokens } = await signInAndRedeem(app, idp, username, { params: { idp_hint: connectorId } });
    return tokens.claims()!.sub;
  };

  test('the same upstream user signing in twice gets the same Herald sub', async () => {
    const first = await subOf(acme, 'acme', 'alice');
    const second = await subOf(acme, 'acme', 'alice');
    expect(second).toBe(first);
    expect(first).not.toBe(ALICE.claims.sub);
    expect(await users.linksOf(first)).toHaveLength(1);
    const created = await herald.audit.find({ type: 'user.created' });
    expect(created.filter((e) => e.userId === first)).toHaveLength(1);
  });

  test('two upstream subjects are two users', async () => {
    expect(await subOf(acme, 'acme', 'bob')).not.toBe(await subOf(acme, 'acme', 'alice'));
  });

  test('the same subject string at two IdPs is two users', async () => {
    expect(await subOf(globex, 'globex', 'robert')).not.toBe(await subOf(acme, 'acme', 'bob'));
  });

  test('the linking rule joins a second IdP to the account with the same verified email', async () => {
    const alice = await subOf(acme, 'acme', 'alice');
    const viaGlobex = await subOf(globex, 'globex', 'alice');
    expect(viaGlobex).toBe(alice);
    expect((await users.linksOf(alice)).map((l) => l.connectorId).sort()).toEqual(['acme', 'globex']);
    const linked = await herald.audit.find({ type: 'user.linked' });
    expect(linked.at(-1)).toMatchObject({ userId: alice, connectorId: 'globex', data: { rule: 'verified_email' } });
  });

  test.each([
    ['email_verified is false', 'eve'],
    ['email_verified is the string "true"', 'mallory'],
  ])('no linking when %s', async (_label, username) => {
    const alice = await subOf(acme, 'acme', 'alice');
    const other = await subOf(globex, 'globex', username);
    expect(other).not.toBe(alice);
  });

  test('no linking through a connector the rule does not name, even on a verified email', async () => {
    const alice = await subOf(acme, 'acme', 'alice');
    const viaInitech = await subOf(initech, 'initech', 'alice');
    expect(viaInitech).not.toBe(alice);
  });

  test('an account whose email only an untrusted IdP verified never attracts a trusted sign-in, nor takes the email as userName', async () => {
    // initech (not trusted for linking) asserts a verified email first…
    const squatter = await subOf(initech, 'initech', 'carol');
    const squatterAccount = await users.findById(squatter);
    expect(squatterAccount!.userName).toBe('initech:in-carol');
    // …then the real Carol signs in through the trusted globex: a new account, not the squatter's.
    const real = await subOf(globex, 'globex', 'carol');
    expect(real).not.toBe(squatter);
    expect((await users.findById(real))!.userName).toBe('carol@corp.example');
  });

  test('profile changes at the IdP reach the account on the next sign-in', async () => {
    const before = await signInAndRedeem(app, acme, 'bob', { params: { idp_hint: 'acme' } });
    expect(before.tokens.claims()!.family_name).toBe('Baker');
    bob.claims = { ...bob.claims, family_name: 'Baker-Smith', name: 'Bob Baker-Smith' };
    const after = await signInAndRedeem(app, acme, 'bob', { params: { idp_hint: 'acme' } });
    expect(after.tokens.claims()).toMatchObject({ sub: before.tokens.claims()!.sub, family_name: 'Baker-Smith', name: 'Bob Baker-Smith' });
  });
});
