/**
 * Authorization code + PKCE end to end, with the dev connector as the stand-in login step
 * (it signs in a seeded user); refresh rotation and reuse detection, code reuse, exact
 * redirect URIs, PKCE policy, RFC 9207 `iss`, userinfo, introspection and logout.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { TestBrowser, findForm } from '../support/browser.js';
import { browseToCallback, clientPeer, oidc, redeem, startAuthorization, type ClientPeer } from '../peers/client.js';
import { UsersRepository } from '../../src/users/users.repository.js';

const SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const REDIRECT = 'http://127.0.0.1:9/app/callback';
const SPA_REDIRECT = 'http://127.0.0.1:9/spa/callback';

const ALICE = { sub: 'alice-upstream', email: 'alice@example.com', email_verified: true, name: 'Alice Example', given_name: 'Alice', family_name: 'Example' };

describe('authorization code flow', () => {
  let herald: TestHerald;
  let web: ClientPeer;
  let spa: ClientPeer;
  let aliceId: string;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [
        { id: 'web', secret: SECRET, redirectUris: [REDIRECT], postLogoutRedirectUris: ['http://127.0.0.1:9/app/bye'], grantTypes: ['authorization_code', 'refresh_token'], apis: ['trading'], firstParty: true },
        { id: 'spa', type: 'public', redirectUris: [SPA_REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], apis: ['trading'], firstParty: true },
      ],
      connectors: [{ type: 'dev', id: 'dev', name: 'Dev', samples: { alice: ALICE } }],
      accountLinking: { byExternalId: ['dev'] },
    }));
    // A seeded account with business attributes; the dev sign-in binds to it by externalId.
    const users = new UsersRepository(herald.dataSource);
    const alice = await users.create({ userName: 'alice', externalId: 'alice-upstream', core: { name: { givenName: 'Alice' } }, custom: { userId: 2998, roles: ['trader'], locations: ['NY'] } });
    aliceId = alice.id;
    web = await clientPeer(herald.issuer, 'web', SECRET, REDIRECT);
    spa = await clientPeer(herald.issuer, 'spa', undefined, SPA_REDIRECT);
  });
  afterAll(() => herald?.stop());

  /** Runs the browser part of a sign-in as Alice and returns the client callback URL. */
  async function signIn(browser: TestBrowser, url: string, redirectUri = REDIRECT): Promise<URL> {
    const { page, callback } = await browseToCallback(browser, url, redirectUri);
    if (callback) return callback; // an existing session skips the login step
    const form = findForm(page.body, { action: '/connectors/dev/submit' });
    expect(form.fields.state).toEqual(expect.any(String));
    const result = await browser.submit(page, { sample: 'alice' }, { action: '/connectors/dev/submit' }, (next) => next.startsWith(redirectUri));
    const last = result.hops.at(-1)!;
    const location = new URL(last.location!, last.url);
    expect(location.href.startsWith(redirectUri)).toBe(true);
    return location;
  }

  async function fullFlow(scope = 'openid profile email offline_access trades') {
    const browser = new TestBrowser();
    const start = await startAuthorization(web, { scope });
    const callback = await signIn(browser, start.url);
    const tokens = await redeem(web, callback, start);
    return { browser, start, callback, tokens };
  }

  test('code + PKCE yields an ID token, a JWT access token for the API and a refresh token', async () => {
    const { callback, tokens } = await fullFlow();
    // RFC 9207: the issuer is in the authorization response.
    expect(callback.searchParams.get('iss')).toBe(herald.issuer);
    const jwks = createRemoteJWKSet(new URL(`${herald.issuer}/jwks`));
    const { payload: access } = await jwtVerify(tokens.access_token, jwks, { issuer: herald.issuer, audience: 'https://api.example.com/trading', typ: 'at+jwt' });
    expect(access.sub).toBe(aliceId);
    expect(access.sub).not.toBe('alice-upstream');
    expect(access).toMatchObject({ client_id: 'web', scope: 'trades', user_id: 2998, given_name: 'Alice', roles: ['trader'], locations: ['NY'] });
    const idToken = tokens.claims()!;
    expect(idToken.sub).toBe(aliceId);
    expect(idToken.email).toBe('alice@example.com');
    // Session claims: when and how the user authenticated.
    expect(idToken.amr).toEqual(['dev']);
    expect(idToken.auth_time).toEqual(expect.any(Number));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const events = await herald.audit.find({ type: 'login.succeeded' });
    expect(events.some((e) => e.userId === aliceId && e.connectorId === 'dev' && e.clientId === 'web')).toBe(true);
  });

  test('claims are exactly those of the granted scopes', async () => {
    const { tokens } = await fullFlow('openid trades:read');
    const access = decodeJwt(tokens.access_token);
    expect(access).toMatchObject({ scope: 'trades:read', tier: 'gold' });
    expect(access).not.toHaveProperty('user_id');
    expect(access).not.toHaveProperty('roles');
  });

  test('refresh rotates the refresh token; reusing a rotated one revokes the family', async () => {
    const { tokens } = await fullFlow();
    const first = tokens.refresh_token!;
    const second = await oidc.refreshTokenGrant(web.config, first);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first);
    expect(decodeJwt(second.access_token)).toMatchObject({ sub: aliceId, aud: 'https://api.example.com/trading', user_id: 2998 });

    await expect(oidc.refreshTokenGrant(web.config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The reuse revoked the whole family, including the newest refresh token and its access token.
    await expect(oidc.refreshTokenGrant(web.config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(web.config, second.access_token)).active).toBe(false);
    const revoked = await herald.audit.find({ type: 'token.revoked' });
    expect(revoked.some((e) => e.reason === 'grant_revoked')).toBe(true);
  });

  test('a failed refresh (a resource the grant does not cover) does not burn the refresh token', async () => {
    const { tokens } = await fullFlow();
    const response = await fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, resource: 'https://api.example.com/billing' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toBe('invalid_target');
    const after = await oidc.refreshTokenGrant(web.config, tokens.refresh_token!);
    expect(decodeJwt(after.access_token).aud).toBe('https://api.example.com/trading');
  });

  test('reusing an authorization code fails and revokes what the code issued', async () => {
    const browser = new TestBrowser();
    const start = await startAuthorization(web, { scope: 'openid offline_access trades' });
    const callback = await signIn(browser, start.url);
    const tokens = await redeem(web, callback, start);
    expect((await oidc.tokenIntrospection(web.config, tokens.access_token)).active).toBe(true);
    await expect(redeem(web, callback, start)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(web.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(web.config, tokens.access_token)).active).toBe(false);
  });

  test.each([
    ['a different case', REDIRECT.replace('callback', 'Callback')],
    ['a trailing slash', `${REDIRECT}/`],
    ['an extra query', `${REDIRECT}?x=1`],
    ['another host', 'http://evil.example/app/callback'],
  ])('a redirect_uri with %s is never redirected to', async (_label, redirectUri) => {
    const start = await startAuthorization({ ...web, redirectUri });
    const response = await new TestBrowser().fetch(start.url);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const body = await response.text();
    expect(body).toContain('redirect_uri');
    expect(body).not.toMatch(/at .+\.js:\d+/);
  });

  test('PKCE: plain is refused, a public client must use it, the verifier must match', async () => {
    const plain = new URL((await startAuthorization(spa)).url);
    plain.searchParams.set('code_challenge_method', 'plain');
    plain.searchParams.set('code_challenge', 'a'.repeat(43));
    const plainResponse = await new TestBrowser().fetch(plain.href);
    const plainError = new URL(plainResponse.headers.get('location')!);
    expect(plainError.searchParams.get('error')).toBe('invalid_request');

    const noPkce = new URL((await startAuthorization(spa)).url);
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const noPkceError = new URL((await new TestBrowser().fetch(noPkce.href)).headers.get('location')!);
    expect(noPkceError.searchParams.get('error')).toBe('invalid_request');

    // A public client completes the flow with S256; a wrong verifier is invalid_grant.
    const browser = new TestBrowser();
    const start = await startAuthorization(spa, { scope: 'openid trades' });
    const callback = await signIn(browser, start.url, SPA_REDIRECT);
    await expect(redeem(spa, callback, { ...start, verifier: oidc.randomPKCECodeVerifier() })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('an openid-only sign-in gets a JWT access token for the userinfo endpoint', async () => {
    const { tokens } = await fullFlow('openid profile email');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${herald.issuer}/jwks`)), {
      issuer: herald.issuer,
      audience: `${herald.issuer}/userinfo`,
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: aliceId, client_id: 'web', scope: 'openid profile email' });
    const info = await oidc.fetchUserInfo(web.config, tokens.access_token, aliceId);
    expect(info).toMatchObject({ sub: aliceId, email: 'alice@example.com', email_verified: true, preferred_username: 'alice' });
    expect(await oidc.tokenIntrospection(web.config, tokens.access_token)).toMatchObject({ active: true, aud: `${herald.issuer}/userinfo`, sub: aliceId });

    // Revoked: userinfo refuses it.
    await oidc.tokenRevocation(web.config, tokens.access_token);
    await expect(oidc.fetchUserInfo(web.config, tokens.access_token, aliceId)).rejects.toMatchObject({ status: 401 });
  });

  test('userinfo refuses access tokens of other APIs and forged tokens', async () => {
    const { tokens } = await fullFlow('openid trades');
    await expect(oidc.fetchUserInfo(web.config, tokens.access_token, aliceId)).rejects.toMatchObject({ status: 401 });
    const { tokens: own } = await fullFlow('openid email');
    const forged = `${own.access_token.slice(0, -4)}AAAA`;
    const response = await fetch(`${herald.issuer}/userinfo`, { headers: { authorization: `Bearer ${forged}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/invalid_token/);
  });

  test('a second sign-in of the same upstream user gives the same sub; SSO skips the login step', async () => {
    const { browser, tokens } = await fullFlow('openid trades');
    const again = await startAuthorization(web, { scope: 'openid trades' });
    const { callback } = await browseToCallback(browser, again.url, REDIRECT);
    expect(callback).toBeDefined();
    const second = await redeem(web, callback!, again);
    expect(decodeJwt(second.access_token).sub).toBe(decodeJwt(tokens.access_token).sub);
  });

  test('RP-initiated logout ends the session and returns to a registered URI only', async () => {
    const { browser, tokens } = await fullFlow('openid');
    const logout = new URL(`${herald.issuer}/logout`);
    logout.searchParams.set('id_token_hint', tokens.id_token!);
    logout.searchParams.set('post_logout_redirect_uri', 'http://127.0.0.1:9/app/bye');
    logout.searchParams.set('state', 'xyz');
    const confirm = await browser.go(logout.href);
    expect(confirm.status).toBe(200);
    const done = await browser.submit(confirm, { logout: 'yes' }, { id: 'op.logoutForm' }, (next) => next.startsWith('http://127.0.0.1:9/app/bye'));
    const final = new URL(done.hops.at(-1)!.location!, done.hops.at(-1)!.url);
    expect(final.href).toBe('http://127.0.0.1:9/app/bye?state=xyz');
    // The session is gone: a new authorization needs the login step again.
    const start = await startAuthorization(web, { scope: 'openid' });
    const { callback, page } = await browseToCallback(browser, start.url, REDIRECT);
    expect(callback).toBeUndefined();
    expect(page.body).toContain('/connectors/dev/submit');

    const bad = new URL(`${herald.issuer}/logout`);
    bad.searchParams.set('id_token_hint', tokens.id_token!);
    bad.searchParams.set('post_logout_redirect_uri', 'http://evil.example/bye');
    const refused = await new TestBrowser().fetch(bad.href);
    expect(refused.status).toBe(400);
  });

  test('implicit and hybrid response types are refused', async () => {
    for (const responseType of ['token', 'id_token', 'code id_token', 'code token']) {
      const url = new URL((await startAuthorization(web)).url);
      url.searchParams.set('response_type', responseType);
      const response = await new TestBrowser().fetch(url.href);
      const location = response.headers.get('location');
      if (location) expect(new URL(location).searchParams.get('error') ?? new URL(location.replace('#', '?')).searchParams.get('error')).toMatch(/unsupported_response_type|invalid_request|unauthorized_client/);
      else expect(response.status).toBe(400);
    }
  });
});

describe('pages rendered by the authorization server', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [{ id: 'web', secret: SECRET, redirectUris: [REDIRECT], grantTypes: ['authorization_code'], apis: ['trading'] }],
      connectors: [{ type: 'dev', id: 'dev', name: 'Dev' }],
    }));
  });
  afterAll(() => herald?.stop());

  test('error pages cannot be framed and leak nothing', async () => {
    const response = await fetch(`${herald.issuer}/authorize?client_id=unknown&response_type=code&redirect_uri=http://evil.example/&scope=openid`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const body = await response.text();
    expect(body).toContain('invalid_client');
    expect(body).not.toMatch(/at .+\.(js|ts):\d+/);
  });

  test('the login page cannot be framed', async () => {
    const browser = new TestBrowser();
    const start = new URL(`${herald.issuer}/authorize`);
    start.search = new URLSearchParams({ client_id: 'web', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', state: 's', nonce: 'n' }).toString();
    const page = await browser.go(start.href);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });
});
