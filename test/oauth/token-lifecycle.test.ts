/**
 * A user's access token lives as long as its grant and its account: after revocation or
 * deactivation it is refused by Herald's own APIs and reported inactive by introspection.
 * Refresh tokens can only be introspected by their own client.
 */
import { decodeJwt } from 'jose';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { TestBrowser } from '../support/browser.js';
import { browseToCallback, clientPeer, oidc, redeem, startAuthorization, type ClientPeer } from '../peers/client.js';
import { UserEntity } from '../../src/users/user.entity.js';

const SECRET = 'lifecycle-secret-0123456789abcdef-012345';
const REDIRECT = 'http://127.0.0.1:9/app/callback';

describe('token lifecycle', () => {
  let herald: TestHerald;
  let web: ClientPeer;
  let console_: ClientPeer;
  let other: ClientPeer;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [
        { id: 'web', secret: SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true },
        // An operator console: people sign in and call Herald's admin API with their own token.
        { id: 'console', secret: SECRET, redirectUris: [REDIRECT], apis: ['admin'], firstParty: true },
        { id: 'other', secret: SECRET, grantTypes: ['client_credentials'], apis: ['billing'] },
      ],
      connectors: [{ type: 'dev', id: 'dev', name: 'Dev', samples: { alice: { sub: 'alice-up', email: 'alice@example.com', email_verified: true } } }],
    }));
    web = await clientPeer(herald.issuer, 'web', SECRET, REDIRECT);
    console_ = await clientPeer(herald.issuer, 'console', SECRET, REDIRECT);
    other = await clientPeer(herald.issuer, 'other', SECRET);
  });
  afterAll(() => herald?.stop());

  async function userTokens(peer: ClientPeer, scope: string) {
    const browser = new TestBrowser();
    const start = await startAuthorization(peer, { scope });
    const { page } = await browseToCallback(browser, start.url, REDIRECT);
    const done = await browser.submit(page, { sample: 'alice' }, { action: '/connectors/dev/submit' }, (next) => next.startsWith(REDIRECT));
    return redeem(peer, new URL(done.hops.at(-1)!.location!, done.hops.at(-1)!.url), start);
  }
  const admin = (token: string) => fetch(`${herald.issuer}/admin/keys`, { headers: { authorization: `Bearer ${token}` } });

  test('revoking the grant ends the user\'s token at Herald\'s own APIs too', async () => {
    const tokens = await userTokens(console_, 'openid offline_access admin:read');
    expect((await admin(tokens.access_token)).status).toBe(200);
    await oidc.tokenRevocation(console_.config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(console_.config, tokens.access_token)).active).toBe(false);
    expect((await admin(tokens.access_token)).status).toBe(401);
  });

  test('a deactivated account\'s token is refused and introspects inactive', async () => {
    const tokens = await userTokens(console_, 'openid admin:read');
    const sub = decodeJwt(tokens.access_token).sub!;
    const users = herald.dataSource.getRepository(UserEntity);
    await users.update({ id: sub }, { active: false });
    try {
      expect((await admin(tokens.access_token)).status).toBe(401);
      expect((await oidc.tokenIntrospection(console_.config, tokens.access_token)).active).toBe(false);
    } finally {
      await users.update({ id: sub }, { active: true });
    }
  });

  test('only the client that holds a refresh token can introspect it; access tokens are open to resource servers', async () => {
    const tokens = await userTokens(web, 'openid offline_access trades');
    expect((await oidc.tokenIntrospection(other.config, tokens.refresh_token!)).active).toBe(false);
    expect((await oidc.tokenIntrospection(web.config, tokens.refresh_token!)).active).toBe(true);
    expect((await oidc.tokenIntrospection(other.config, tokens.access_token)).active).toBe(true);
  });
});
