/**
 * The first complete brokered sign-in: app → Herald → corporate IdP (oidc-provider) → Herald →
 * app → tokens; what Herald asks of the IdP (PKCE S256, state, nonce, per-connector callback),
 * what it keeps of the upstream identity, client authentication methods at the IdP, userinfo
 * on and off, and a sign-in finished by another Herald instance (flow state in the database).
 */
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { TestHerald } from '../../support/herald.js';
import { freePort } from '../../support/ports.js';
import { TestBrowser } from '../../support/browser.js';
import { redeem, startAuthorization, type ClientPeer } from '../../peers/client.js';
import { UsersRepository } from '../../../src/users/users.repository.js';
import { ALICE, APP_REDIRECT, BOB, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, signIn, signInAndRedeem, startBroker, webApp } from './oidc-fixtures.js';

describe('OIDC connector: brokered sign-in', () => {
  let idp: UpstreamIdp;
  let herald: TestHerald;
  let app: ClientPeer;
  let users: UsersRepository;

  beforeAll(async () => {
    const broker = await reserveHerald();
    // Herald's keys for private_key_jwt at the IdP: an RSA key in a PEM file, an EC key inline.
    const configDir = mkdtempSync(join(tmpdir(), 'herald-oidc-'));
    mkdirSync(join(configDir, 'keys'));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(configDir, 'keys', 'idp-client.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'herald-ec-1' };

    idp = await UpstreamIdp.start({
      name: 'Acme IdP',
      accounts: { alice: ALICE, bob: BOB },
      clients: [
        { clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: [broker.callback('acme')] },
        { clientId: 'herald-post', clientSecret: IDP_SECRET, authMethod: 'client_secret_post', redirectUris: [broker.callback('acme-lean')] },
        {
          clientId: 'herald-jwt',
          authMethod: 'private_key_jwt',
          redirectUris: [broker.callback('acme-jwt'), broker.callback('acme-jwk')],
          jwks: { keys: [{ ...createPublicKey(rsa.privateKey).export({ format: 'jwk' }), kid: 'herald-rsa-1' }, { ...ec.publicKey.export({ format: 'jwk' }), kid: 'herald-ec-1' }] },
        },
      ],
    });
    herald = await startBroker(
      broker.port,
      [
        oidcConnector('acme', idp),
        oidcConnector('acme-lean', idp, { clientId: 'herald-post', authMethod: 'client_secret_post', userinfo: false }),
        oidcConnector('acme-jwt', idp, { clientId: 'herald-jwt', clientSecret: undefined, authMethod: 'private_key_jwt', privateKeyFile: 'keys/idp-client.pem', privateKeyId: 'herald-rsa-1' }),
        oidcConnector('acme-jwk', idp, { clientId: 'herald-jwt', clientSecret: undefined, authMethod: 'private_key_jwt', privateKey: ecJwk }),
      ],
      {},
      { configDir },
    );
    app = await webApp(herald);
    users = new UsersRepository(herald.dataSource);
  });
  afterAll(async () => {
    await herald?.stop();
    await idp?.stop();
  });
  afterEach(() => idp.reset());

  test('the whole redirect chain ends in tokens whose sub is Herald\'s own user id', async () => {
    const { tokens, trail } = await signInAndRedeem(app, idp, 'alice', { params: { scope: 'openid profile email trades', idp_hint: 'acme' } });
    const paths = trail.map((url) => {
      const u = new URL(url);
      return `${u.origin === herald.issuer ? 'herald' : u.origin === idp.issuer ? 'idp' : 'app'}:${u.pathname.replace(/\/[A-Za-z0-9_-]{15,}/g, '/:id')}`;
    });
    expect(paths).toEqual([
      'herald:/authorize',
      'herald:/interaction/:id',
      'herald:/connectors/acme/start',
      'idp:/auth',
      'idp:/interaction/:id',
      'idp:/interaction/:id/login',
      'idp:/auth/:id',
      'idp:/interaction/:id',
      'idp:/interaction/:id/confirm',
      'idp:/auth/:id',
      'herald:/connectors/acme/callback',
      'herald:/interaction/:id/continue',
      'herald:/authorize/:id',
      'herald:/interaction/:id', // consent step, skipped for this first-party app
      'herald:/authorize/:id',
      'app:/app/callback',
    ]);

    const jwks = createRemoteJWKSet(new URL(`${herald.issuer}/jwks`));
    const { payload: access } = await jwtVerify(tokens.access_token, jwks, { issuer: herald.issuer, audience: 'https://api.example.com/trading', typ: 'at+jwt' });
    const id = tokens.claims()!;
    const link = await users.findLink('acme', ALICE.claims.sub);
    expect(link).not.toBeNull();
    expect(id.sub).toBe(link!.userId);
    expect(access.sub).toBe(link!.userId);
    expect(id.sub).not.toBe(ALICE.claims.sub);
    // Standard claims from the IdP (its userinfo) land on the account and in Herald's tokens.
    expect(id).toMatchObject({ iss: herald.issuer, aud: 'web', email: 'alice@acme.test', email_verified: true, name: 'Alice Archer', given_name: 'Alice', family_name: 'Archer' });
    expect(access).toMatchObject({ given_name: 'Alice', client_id: 'web' });
  });

  test('every upstream request uses PKCE S256, a fresh state and nonce, and the connector\'s callback', async () => {
    await signIn(app, idp, 'alice', { params: { idp_hint: 'acme' } });
    const first = idp.lastAuthorizationRequest()!.params;
    await signIn(app, idp, 'bob', { params: { idp_hint: 'acme' } });
    const second = idp.lastAuthorizationRequest()!.params;
    for (const params of [first, second]) {
      expect(params).toMatchObject({
        client_id: 'herald',
        response_type: 'code',
        scope: 'openid profile email',
        redirect_uri: `${herald.issuer}/connectors/acme/callback`,
        code_challenge_method: 'S256',
      });
      expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(params.state!.length).toBeGreaterThanOrEqual(32);
      expect(params.nonce!.length).toBeGreaterThanOrEqual(32);
    }
    expect(second.state).not.toBe(first.state);
    expect(second.nonce).not.toBe(first.nonce);
    expect(second.code_challenge).not.toBe(first.code_challenge);
  });

  test('prompt=login, max_age and acr_values asked of Herald travel to the IdP', async () => {
    await signIn(app, idp, 'alice', { params: { idp_hint: 'acme', prompt: 'login', max_age: '60', acr_values: 'urn:example:loa:2' } });
    expect(idp.lastAuthorizationRequest()!.params).toMatchObject({ prompt: 'login', max_age: '60', acr_values: 'urn:example:loa:2' });
  });

  test('the upstream identity keeps the upstream sub, raw ID token and userinfo claims, amr, acr and auth_time', async () => {
    const { tokens } = await signInAndRedeem(app, idp, 'alice', { params: { idp_hint: 'acme' } });
    const link = await users.findLink('acme', ALICE.claims.sub);
    const attributes = link!.lastAttributes!;
    expect(attributes).toMatchObject({
      sub: ALICE.claims.sub,
      iss: idp.issuer,
      aud: 'herald',
      groups: ['traders', 'eu-desk'], // only the IdP's userinfo has it
      email: 'Alice@acme.test',
      amr: ['pwd', 'mfa'],
      acr: 'urn:acme:loa:2',
    });
    expect(attributes.auth_time).toEqual(expect.any(Number));
    expect(attributes).not.toHaveProperty('nonce');
    const succeeded = await herald.audit.find({ type: 'login.succeeded' });
    expect(succeeded.at(-1)).toMatchObject({ connectorId: 'acme', clientId: 'web', userId: tokens.claims()!.sub, data: expect.objectContaining({ amr: ['pwd', 'mfa'], acr: 'urn:acme:loa:2' }) });
  });

  test('client_secret_post at the IdP; with userinfo off only the ID token claims are used', async () => {
    const userinfoCalls = idp.count('userinfo');
    const { tokens } = await signInAndRedeem(app, idp, 'bob', { params: { idp_hint: 'acme-lean' } });
    // The IdP registered this client for client_secret_post only; the sign-in worked, so Herald used it.
    expect(idp.count('userinfo')).toBe(userinfoCalls);
    // This IdP follows OIDC Core: with an access token issued, profile claims are only in userinfo.
    const link = await users.findLink('acme-lean', BOB.claims.sub);
    expect(link!.lastAttributes).toMatchObject({ sub: BOB.claims.sub });
    expect(link!.lastAttributes).not.toHaveProperty('email');
    expect(tokens.claims()).not.toHaveProperty('email');
  });

  test.each([
    ['an RSA key from a PEM file', 'acme-jwt'],
    ['an EC key given inline as a JWK', 'acme-jwk'],
  ])('private_key_jwt at the IdP with %s', async (_label, connectorId) => {
    const { tokens } = await signInAndRedeem(app, idp, 'bob', { params: { idp_hint: connectorId } });
    expect(tokens.claims()!.email).toBe('bob@acme.test');
    expect(await users.findLink(connectorId, BOB.claims.sub)).not.toBeNull();
  });

  test('another Herald instance on the same database finishes a sign-in this one started', async () => {
    const second = await startBroker(await freePort(), herald.config.connectors as never, {}, { shareDatabaseWith: herald, sameIssuerAs: herald, configDir: herald.loaded.configDir });
    try {
      const browser = new TestBrowser();
      const start = await startAuthorization(app, { idp_hint: 'acme' });
      const login = await browser.go(start.url);
      // The IdP sends the browser back to the public URL; the "load balancer" picks instance two.
      const atCallback = await idp.signIn(browser, login, 'alice', { stopAt: (url) => url.startsWith(`${herald.issuer}/connectors/`) });
      const rerouted = new URL(atCallback.url);
      rerouted.port = new URL(second.issuer).port;
      const done = await browser.go(rerouted.href, {}, (url) => url.startsWith(APP_REDIRECT));
      expect(done.hops[0]).toMatchObject({ url: rerouted.href, status: 303 });
      expect(done.url.startsWith(APP_REDIRECT)).toBe(true);
      const tokens = await redeem(app, new URL(done.url), start);
      expect(decodeJwt(tokens.id_token!).email).toBe('alice@acme.test');
    } finally {
      await second.stop();
    }
  });
});
