/**
 * Claims from the account (with renaming) and from external APIs at token issuance, with a real
 * product API on loopback (test/peers/claims-api.ts): URL templates, static header secret and
 * client-credentials auth (Herald itself as the API's authorization server), response mapping,
 * cache TTL, and every failure mode with the API down.
 */
import { decodeJwt } from 'jose';
import type { HeraldConfigInput } from '../../src/config/config.schema.js';
import { validateConfig } from '../../src/config/config.loader.js';
import { ConfigError } from '../../src/config/config.errors.js';
import { startHerald, type TestHerald } from '../support/herald.js';
import { clientPeer, oidc, type ClientPeer } from '../peers/client.js';
import { ClaimsApi } from '../peers/claims-api.js';
import { HERALD, ScimClient, scimConfig } from '../scim/scim-support.js';
import { devSignIn } from './claims-support.js';

const API_KEY = 'claims-api-key-0123456789abcdef';
const WEB_SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const CLAIMS_CLIENT_SECRET = 'herald-claims-secret-0123456789abcdef-01';
const REDIRECT = 'http://127.0.0.1:9/app/callback';

const JOHN_UPSTREAM = { sub: 'corp-2998', email: 'john.doe@example.com', email_verified: true, given_name: 'Johnny', family_name: 'D.' };

function provider(id: string, api: ClaimsApi, extra: Record<string, unknown> = {}) {
  return {
    id,
    url: `${api.origin}/users/{account.userId}/settings`,
    auth: { type: 'header' as const, name: 'x-api-key', value: API_KEY },
    cacheTtlSeconds: 0,
    ...extra,
  };
}

export function claimsConfig(issuer: string, api: ClaimsApi): HeraldConfigInput {
  const desk = (providerId: string) => ({ claims: [{ name: 'desk', from: 'provider' as const, provider: providerId }] });
  return scimConfig(issuer, {
    apis: [
      { id: 'trading', identifier: 'https://api.example.com/trading', scopes: ['trades'], accessTokenTtl: 600 },
      { id: 'desk', identifier: 'https://api.example.com/desk', scopes: ['desk.key', 'desk.cc', 'desk.fail', 'desk.omit', 'desk.stale', 'desk.cached', 'desk.slow'] },
      { id: 'settings', identifier: 'https://settings.example.com', scopes: ['settings:read'] },
    ],
    scopes: {
      // The example: claims from the account, renamed where the token wants another name.
      trades: {
        claims: [{ name: 'user_id', from: 'account', attribute: 'userId' }, 'given_name', 'family_name', 'roles', 'locations'],
      },
      'desk.key': {
        claims: [
          { name: 'desk', from: 'provider', provider: 'by-key' },
          { name: 'daily_limit', from: 'provider', provider: 'by-key', attribute: 'limit' },
          { name: 'missing', from: 'provider', provider: 'by-key' },
        ],
      },
      'desk.cc': desk('by-token'),
      'desk.fail': desk('failing'),
      'desk.omit': desk('omitting'),
      'desk.stale': desk('stale'),
      'desk.cached': desk('cached'),
      'desk.slow': desk('slow'),
    },
    claimProviders: [
      provider('by-key', api, { claims: { desk: '/desk', limit: 'limits.daily', missing: '/nope' } }),
      provider('by-token', api, {
        url: `${api.origin}/users/{sub}/settings`,
        auth: { type: 'client_credentials', tokenUrl: `${issuer}/token`, clientId: 'herald-claims', clientSecret: CLAIMS_CLIENT_SECRET, scope: 'settings:read' },
        onFailure: 'fail',
      }),
      provider('failing', api, { onFailure: 'fail' }),
      provider('omitting', api, { onFailure: 'omit' }),
      provider('stale', api, { onFailure: 'stale', staleSeconds: 600 }),
      provider('cached', api, { cacheTtlSeconds: 300 }),
      provider('slow', api, { timeoutMs: 300 }),
    ],
    clients: [
      { id: 'web', secret: WEB_SECRET, redirectUris: [REDIRECT], apis: ['trading', 'desk'], firstParty: true },
      { id: 'herald-claims', secret: CLAIMS_CLIENT_SECRET, grantTypes: ['client_credentials'], apis: ['settings'] },
    ],
    connectors: [{ type: 'dev', id: 'dev', name: 'Corporate (dev)' }],
    accountLinking: { byExternalId: ['dev'] },
  });
}

describe('claims from accounts and from APIs', () => {
  let api: ClaimsApi;
  let herald: TestHerald;
  let app: ClientPeer;
  let john: any;

  beforeAll(async () => {
    api = await ClaimsApi.start({ apiKey: API_KEY });
    herald = await startHerald((issuer) => claimsConfig(issuer, api));
    api.trust({ issuer: herald.issuer, audience: 'https://settings.example.com', scope: 'settings:read' });
    app = await clientPeer(herald.issuer, 'web', WEB_SECRET, REDIRECT);
    const scim = await ScimClient.connect(herald);
    john = await scim.createUser({
      userName: 'john.doe@example.com',
      externalId: 'corp-2998',
      name: { givenName: 'John', familyName: 'Doe' },
      emails: [{ value: 'john.doe@example.com', type: 'work', primary: true }],
      [HERALD]: { userId: 2998, locations: ['NY'], roles: ['trader'] },
    });
    api.settings.set('2998', { desk: 'NY-EQ', limits: { daily: 5_000_000 } });
    api.settings.set(john.id, { desk: 'NY-EQ (by sub)' });
  });
  afterAll(async () => {
    await herald?.stop();
    await api?.stop();
  });
  beforeEach(() => api.reset());

  async function accessToken(scope: string): Promise<Record<string, any>> {
    const tokens = await (await devSignIn(app, JOHN_UPSTREAM, { scope: `openid ${scope}` })).redeem();
    return decodeJwt(tokens.access_token) as Record<string, any>;
  }

  async function failures(provider: string) {
    return (await herald.audit.find({ type: 'claims.provider_failed' })).filter((e) => (e.data as any)?.provider === provider);
  }

  test('the trades token: account attributes as claims, userId renamed to user_id', async () => {
    const token = await accessToken('trades');
    expect(token).toMatchObject({
      scope: 'trades',
      sub: john.id,
      user_id: 2998,
      given_name: 'John',
      family_name: 'Doe',
      roles: ['trader'],
      locations: ['NY'],
      aud: 'https://api.example.com/trading',
      client_id: 'web',
    });
    // Exactly the configured claims besides the JWT profile's own (RFC 9068).
    const own = ['aud', 'auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'];
    expect(Object.keys(token).filter((k) => !own.includes(k)).sort()).toEqual(['family_name', 'given_name', 'locations', 'roles', 'user_id']);
    // The account is SCIM-managed: the upstream's given_name ("Johnny") did not overwrite it.
  });

  test('an API with a static header secret: URL from an account attribute, response mapping', async () => {
    const token = await accessToken('desk.key');
    expect(token).toMatchObject({ desk: 'NY-EQ', daily_limit: 5_000_000 });
    expect(token).not.toHaveProperty('missing');
    expect(api.requests).toEqual([{ path: '/users/2998/settings', auth: 'api-key' }]);
    expect(await failures('by-key')).toEqual([]);
  });

  test('an API protected by OAuth: Herald gets a client-credentials token and reuses it', async () => {
    expect((await accessToken('desk.cc')).desk).toBe('NY-EQ (by sub)');
    expect((await accessToken('desk.cc')).desk).toBe('NY-EQ (by sub)');
    expect(api.requests).toEqual([
      { path: `/users/${john.id}/settings`, auth: 'bearer:herald-claims' },
      { path: `/users/${john.id}/settings`, auth: 'bearer:herald-claims' },
    ]);
    const issued = (await herald.audit.find({ type: 'token.issued', clientId: 'herald-claims' })).length;
    expect(issued).toBe(1);
  });

  test('answers are cached for cacheTtlSeconds; with 0 every token asks again', async () => {
    await accessToken('desk.cached');
    await accessToken('desk.cached');
    expect(api.requests).toHaveLength(1);
    await accessToken('desk.omit');
    await accessToken('desk.omit');
    expect(api.requests).toHaveLength(3);
  });

  test('a 404 means the user has no values: no claim, no failure', async () => {
    api.settings.delete('2998');
    try {
      const token = await accessToken('desk.omit');
      expect(token).not.toHaveProperty('desk');
      expect(await failures('omitting')).toEqual([]);
    } finally {
      api.settings.set('2998', { desk: 'NY-EQ', limits: { daily: 5_000_000 } });
    }
  });

  describe('with the API down', () => {
    test('fail: no token; the client gets the OAuth error temporarily_unavailable, not a server error', async () => {
      api.mode = 'error';
      const signIn = await devSignIn(app, JOHN_UPSTREAM, { scope: 'openid desk.fail' });
      const error = await signIn.redeem().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(oidc.ResponseBodyError);
      expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 400 });
      expect((error as oidc.ResponseBodyError).error_description).toMatch(/temporarily unavailable/);
      const [failure] = await failures('failing');
      expect(failure).toMatchObject({ userId: john.id, clientId: 'web', reason: 'http_error', outcome: 'failure', data: { provider: 'failing', mode: 'fail', outcome: 'failed' } });
      const refused = await herald.audit.find({ type: 'token.refused', clientId: 'web' });
      expect(refused.at(-1)).toMatchObject({ reason: 'temporarily_unavailable' });
      // The same provider works again once the API is back.
      api.mode = 'up';
      expect((await accessToken('desk.fail')).desk).toBe('NY-EQ');
    });

    test('fail during a refresh keeps the refresh token usable for a retry', async () => {
      const tokens = await (await devSignIn(app, JOHN_UPSTREAM, { scope: 'openid offline_access desk.fail' })).redeem();
      api.mode = 'error';
      const refused = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!).catch((e: unknown) => e);
      expect(refused).toMatchObject({ error: 'temporarily_unavailable' });
      api.mode = 'up';
      const retried = await oidc.refreshTokenGrant(app.config, tokens.refresh_token!);
      expect(decodeJwt(retried.access_token)).toMatchObject({ sub: john.id, desk: 'NY-EQ' });
      // Rotation still holds: the refresh token that worked is now spent.
      expect(await oidc.refreshTokenGrant(app.config, tokens.refresh_token!).catch((e: unknown) => e)).toMatchObject({ error: 'invalid_grant' });
    });

    test('fail also applies to a client-credentials-protected API whose token endpoint works but the API does not answer JSON', async () => {
      api.mode = 'garbage';
      const error = await (await devSignIn(app, JOHN_UPSTREAM, { scope: 'openid desk.cc' })).redeem().catch((e: unknown) => e);
      expect(error).toMatchObject({ error: 'temporarily_unavailable' });
      expect((await failures('by-token')).at(-1)).toMatchObject({ reason: 'invalid_response' });
    });

    test('omit: the token is issued without the claim, and the failure is audited', async () => {
      api.mode = 'error';
      const token = await accessToken('desk.omit');
      expect(token).not.toHaveProperty('desk');
      expect(token.sub).toBe(john.id);
      expect((await failures('omitting')).at(-1)).toMatchObject({ reason: 'http_error', data: { mode: 'omit', outcome: 'omitted', detail: 'HTTP 503' } });
    });

    test('stale: the last good answer within the stale window, then nothing', async () => {
      expect((await accessToken('desk.stale')).desk).toBe('NY-EQ');
      api.settings.set('2998', { desk: 'changed while down' });
      api.mode = 'error';
      expect((await accessToken('desk.stale')).desk).toBe('NY-EQ');
      expect((await failures('stale')).at(-1)).toMatchObject({ data: { mode: 'stale', outcome: 'stale' } });
      // The last good answer is in the database (shared by instances, kept across restarts).
      const [row] = await herald.dataSource.query(`SELECT user_id, value FROM claim_provider_values WHERE provider_id = 'stale'`);
      expect(row.user_id).toBe(john.id);
      expect(JSON.parse(row.value)).toEqual({ desk: 'NY-EQ', limits: { daily: 5_000_000 } });
      // Age it beyond staleSeconds (600 s), in the database and in this instance's memory.
      await herald.dataSource.query(`UPDATE claim_provider_values SET fetched_at = ${Date.now() - 601_000} WHERE provider_id = 'stale'`);
      const { ProviderClaimSource } = await import('../../src/claims/sources/provider.source.js');
      herald.app.get(ProviderClaimSource).forgetUser(john.id);
      expect(await accessToken('desk.stale')).not.toHaveProperty('desk');
      expect((await failures('stale')).at(-1)).toMatchObject({ data: { mode: 'stale', outcome: 'omitted' } });
      api.settings.set('2998', { desk: 'NY-EQ', limits: { daily: 5_000_000 } });
    });

    test('a hanging API is abandoned after timeoutMs', async () => {
      api.mode = 'hang';
      const token = await accessToken('desk.slow');
      expect(token).not.toHaveProperty('desk');
      expect((await failures('slow')).at(-1)).toMatchObject({ reason: 'timeout', data: { outcome: 'omitted', detail: 'no answer within 300 ms' } });
    });

    test('an API that is not listening at all', async () => {
      await api.stop();
      try {
        const token = await accessToken('desk.omit');
        expect(token).not.toHaveProperty('desk');
        expect((await failures('omitting')).at(-1)).toMatchObject({ reason: 'unreachable', data: { detail: 'ECONNREFUSED' } });
      } finally {
        await api.listen();
      }
    });

    test('an API that refuses Herald\'s credentials is a failure too', async () => {
      const before = (await failures('by-key')).length;
      const original = api.apiKey;
      (api as { apiKey: string }).apiKey = 'rotated-key';
      try {
        expect(await accessToken('desk.key')).not.toHaveProperty('desk');
        const after = await failures('by-key');
        expect(after).toHaveLength(before + 1);
        expect(after.at(-1)).toMatchObject({ reason: 'unauthorized' });
      } finally {
        (api as { apiKey: string }).apiKey = original;
      }
    });
  });

  test('config: provider URLs may only use the documented placeholders; claims must name a configured provider', () => {
    const base = (issuer: string) => claimsConfig(issuer, api) as Record<string, any>;
    const bad = base('http://127.0.0.1:1');
    bad.claimProviders[0].url = 'http://127.0.0.1:1/users/{account.userId}/{password}';
    expect(() => validateConfig(bad, { env: {} })).toThrow(ConfigError);
    expect(() => validateConfig(bad, { env: {} })).toThrow(/claimProviders\[0\]\.url/);
    const unknown = base('http://127.0.0.1:1');
    unknown.scopes['desk.omit'].claims[0].provider = 'nope';
    expect(() => validateConfig(unknown, { env: {} })).toThrow(/scopes\["desk\.omit"\]\.claims\[0\]\.provider/);
    const ftp = base('http://127.0.0.1:1');
    ftp.claimProviders[0].url = 'ftp://example.com/{sub}';
    expect(() => validateConfig(ftp, { env: {} })).toThrow(/claimProviders\[0\]\.url/);
  });
});

