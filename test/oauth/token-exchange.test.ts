/**
 * RFC 8693 token exchange (delegation): the trading API's back end exchanges a user's trading
 * token for a billing token on the same user's behalf.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { TestBrowser, findForm } from '../support/browser.js';
import { browseToCallback, clientPeer, oidc, redeem, startAuthorization, type ClientPeer } from '../peers/client.js';

const SECRET = 'exchange-secret-0123456789abcdef-01234567';
const REDIRECT = 'http://127.0.0.1:9/app/callback';
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

describe('token exchange (RFC 8693)', () => {
  let herald: TestHerald;
  let web: ClientPeer;
  let userToken: string;
  let userSub: string;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [
        { id: 'web', secret: SECRET, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], apis: ['trading'], firstParty: true },
        { id: 'trading-backend', secret: SECRET, grantTypes: ['client_credentials', GRANT], apis: ['billing'], tokenExchange: { subjectApis: ['trading'] } },
        { id: 'other-backend', secret: SECRET, grantTypes: ['client_credentials'], apis: ['billing'] },
        { id: 'svc', secret: SECRET, grantTypes: ['client_credentials'], apis: ['trading'] },
      ],
      connectors: [{ type: 'dev', id: 'dev', name: 'Dev', samples: { alice: { sub: 'alice-up', email: 'alice@example.com', email_verified: true } } }],
    }));
    web = await clientPeer(herald.issuer, 'web', SECRET, REDIRECT);
    const browser = new TestBrowser();
    const start = await startAuthorization(web, { scope: 'openid offline_access trades' });
    const { page } = await browseToCallback(browser, start.url, REDIRECT);
    const done = await browser.submit(page, { sample: 'alice' }, { action: '/connectors/dev/submit' }, (next) => next.startsWith(REDIRECT));
    const callback = new URL(done.hops.at(-1)!.location!, done.hops.at(-1)!.url);
    const tokens = await redeem(web, callback, start);
    userToken = tokens.access_token;
    userSub = decodeJwt(userToken).sub!;
    expect(findForm).toBeDefined();
  });
  afterAll(() => herald?.stop());

  const exchange = (clientId: string, body: Record<string, string>) =>
    fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: GRANT, subject_token_type: AT_TYPE, ...body }),
    });

  test('a user token for one API becomes a delegated token for another, for the same user', async () => {
    const response = await exchange('trading-backend', { subject_token: userToken, resource: 'https://api.example.com/billing', scope: 'invoices' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body).toMatchObject({ issued_token_type: AT_TYPE, token_type: 'Bearer', scope: 'invoices' });
    const { payload, protectedHeader } = await jwtVerify(body.access_token, createRemoteJWKSet(new URL(`${herald.issuer}/jwks`)), {
      audience: 'https://api.example.com/billing',
      issuer: herald.issuer,
    });
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    expect(payload).toMatchObject({ sub: userSub, client_id: 'trading-backend', scope: 'invoices', billing_region: 'eu', act: { sub: 'trading-backend' } });
    const introspection = await oidc.tokenIntrospection(await (await clientPeer(herald.issuer, 'trading-backend', SECRET)).config, body.access_token);
    expect(introspection).toMatchObject({ active: true, sub: userSub });
  });

  test.each([
    ['a client without the grant', 'other-backend', () => ({ subject_token: userToken, resource: 'https://api.example.com/billing', scope: 'invoices' }), 400, 'unauthorized_client'],
    ['a target API the client may not use', 'trading-backend', () => ({ subject_token: userToken, resource: 'https://api.example.com/trading', scope: 'trades' }), 400, 'invalid_target'],
    ['a forged subject token', 'trading-backend', () => ({ subject_token: `${userToken.slice(0, -4)}AAAA`, resource: 'https://api.example.com/billing', scope: 'invoices' }), 400, 'invalid_grant'],
    ['a subject token of the wrong type', 'trading-backend', () => ({ subject_token: userToken, subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token', scope: 'invoices' }), 400, 'invalid_request'],
    ['an actor token', 'trading-backend', () => ({ subject_token: userToken, actor_token: userToken, actor_token_type: AT_TYPE, scope: 'invoices' }), 400, 'invalid_request'],
    ['a scope of another API', 'trading-backend', () => ({ subject_token: userToken, resource: 'https://api.example.com/billing', scope: 'trades' }), 400, 'invalid_scope'],
  ])('%s is refused', async (_label, clientId, body, status, error) => {
    const response = await exchange(clientId, body());
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).error).toBe(error);
  });

  test('a token of an API the client may not exchange from is refused', async () => {
    const svc = await clientPeer(herald.issuer, 'svc', SECRET);
    const own = await oidc.clientCredentialsGrant(svc.config, { scope: 'trades:read' });
    // Allowed: client-credentials tokens of the trading API may be exchanged too (no user).
    const ok = await exchange('trading-backend', { subject_token: own.access_token, scope: 'invoices' });
    expect(ok.status).toBe(200);
    const billing = ((await ok.json()) as any).access_token;
    const billingPayload = decodeJwt(billing);
    expect(billingPayload).toMatchObject({ sub: 'trading-backend', act: { sub: 'trading-backend' } });
    // A billing token is not a trading token: the backend may not exchange it.
    const again = await exchange('trading-backend', { subject_token: billing, scope: 'invoices' });
    expect(((await again.json()) as any).error).toBe('unauthorized_client');
  });

  test('a revoked subject token cannot be exchanged', async () => {
    const browser = new TestBrowser();
    const start = await startAuthorization(web, { scope: 'openid trades' });
    const { page } = await browseToCallback(browser, start.url, REDIRECT);
    const done = await browser.submit(page, { sample: 'alice' }, { action: '/connectors/dev/submit' }, (next) => next.startsWith(REDIRECT));
    const tokens = await redeem(web, new URL(done.hops.at(-1)!.location!, done.hops.at(-1)!.url), start);
    await oidc.tokenRevocation(web.config, tokens.access_token);
    const response = await exchange('trading-backend', { subject_token: tokens.access_token, scope: 'invoices' });
    expect(((await response.json()) as any).error).toBe('invalid_grant');
  });

  test('discovery lists the grant type', async () => {
    const metadata = (await (await fetch(`${herald.issuer}/.well-known/openid-configuration`)).json()) as any;
    expect(metadata.grant_types_supported).toContain(GRANT);
  });
});

describe('token exchange limits', () => {
  let herald: TestHerald;
  let web: ClientPeer;
  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [
        { id: 'web', secret: SECRET, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], apis: ['trading'], firstParty: true },
        // May exchange trading tokens into trading and billing tokens.
        { id: 'hub', secret: SECRET, grantTypes: [GRANT], apis: ['trading', 'billing'], tokenExchange: { subjectApis: ['trading'] } },
      ],
      connectors: [{ type: 'dev', id: 'dev', name: 'Dev', samples: { alice: { sub: 'alice-up', email: 'alice@example.com', email_verified: true } } }],
    }));
    web = await clientPeer(herald.issuer, 'web', SECRET, REDIRECT);
  });
  afterAll(() => herald?.stop());

  async function signIn(scope: string) {
    const browser = new TestBrowser();
    const start = await startAuthorization(web, { scope });
    const { page } = await browseToCallback(browser, start.url, REDIRECT);
    const done = await browser.submit(page, { sample: 'alice' }, { action: '/connectors/dev/submit' }, (next) => next.startsWith(REDIRECT));
    return redeem(web, new URL(done.hops.at(-1)!.location!, done.hops.at(-1)!.url), start);
  }
  const exchange = (body: Record<string, string>) =>
    fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`hub:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: GRANT, subject_token_type: AT_TYPE, ...body }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  test('on the subject token\'s own API the scopes only narrow', async () => {
    const tokens = await signIn('openid trades:read');
    const widened = await exchange({ subject_token: tokens.access_token, resource: 'https://api.example.com/trading', scope: 'trades' });
    expect(widened.body.error).toBe('invalid_scope');
    const same = await exchange({ subject_token: tokens.access_token, resource: 'https://api.example.com/trading', scope: 'trades:read' });
    expect(same.status).toBe(200);
  });

  test('a delegated token never outlives its subject and dies with the subject\'s grant', async () => {
    const tokens = await signIn('openid offline_access trades');
    const first = await exchange({ subject_token: tokens.access_token, resource: 'https://api.example.com/trading', scope: 'trades' });
    expect(first.status).toBe(200);
    const subjectExp = decodeJwt(tokens.access_token).exp!;
    expect(decodeJwt(first.body.access_token).exp!).toBeLessThanOrEqual(subjectExp);
    // Re-exchanging the delegated token does not extend it either.
    const second = await exchange({ subject_token: first.body.access_token, resource: 'https://api.example.com/trading', scope: 'trades' });
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token).exp!).toBeLessThanOrEqual(subjectExp);
    const billing = await exchange({ subject_token: tokens.access_token, resource: 'https://api.example.com/billing', scope: 'invoices' });
    const hub = await clientPeer(herald.issuer, 'hub', SECRET);
    expect((await oidc.tokenIntrospection(hub.config, billing.body.access_token)).active).toBe(true);

    // Revoking the user's refresh token revokes the grant: every token delegated from it ends.
    await oidc.tokenRevocation(web.config, tokens.refresh_token!);
    for (const delegated of [first.body.access_token, second.body.access_token, billing.body.access_token]) {
      expect((await oidc.tokenIntrospection(hub.config, delegated)).active).toBe(false);
    }
    const again = await exchange({ subject_token: first.body.access_token, resource: 'https://api.example.com/billing', scope: 'invoices' });
    expect(again.body.error).toBe('invalid_grant');
  });
});
