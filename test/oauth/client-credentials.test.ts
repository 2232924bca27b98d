import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { clientPeer, oidc, type ClientPeer } from '../peers/client.js';

const SECRET = 'service-secret-0123456789abcdef-0123456789';

describe('client credentials, discovery and JWT access tokens', () => {
  let herald: TestHerald;
  let service: ClientPeer;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [
        { id: 'svc', secret: SECRET, grantTypes: ['client_credentials'], apis: ['trading', 'billing'] },
        { id: 'svc-one', secret: SECRET, grantTypes: ['client_credentials'], apis: ['trading'] },
        { id: 'svc-post', secret: SECRET, authMethod: 'client_secret_post', grantTypes: ['client_credentials'], apis: ['billing'] },
      ],
    }));
    service = await clientPeer(herald.issuer, 'svc', SECRET);
  });
  afterAll(() => herald?.stop());

  const jwks = () => createRemoteJWKSet(new URL(`${herald.issuer}/jwks`));

  test('OpenID and RFC 8414 discovery describe the server', async () => {
    const openid: any = await (await fetch(`${herald.issuer}/.well-known/openid-configuration`)).json();
    const rfc8414: any = await (await fetch(`${herald.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(openid.issuer).toBe(herald.issuer);
    expect(rfc8414.issuer).toBe(herald.issuer);
    expect(openid.response_types_supported).toEqual(['code']);
    expect(openid.code_challenge_methods_supported).toEqual(['S256']);
    expect(openid.authorization_response_iss_parameter_supported).toBe(true);
    expect(openid.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    expect(openid.grant_types_supported).not.toContain('implicit');
    expect(openid.introspection_endpoint).toBe(`${herald.issuer}/introspect`);
    expect(openid.revocation_endpoint).toBe(`${herald.issuer}/revoke`);
    expect(openid.end_session_endpoint).toBe(`${herald.issuer}/logout`);
    expect(openid.id_token_signing_alg_values_supported).toContain('RS256');
  });

  test('a forged Host header never changes the endpoints in discovery', async () => {
    const { request } = await import('node:http');
    const url = new URL(`${herald.issuer}/.well-known/openid-configuration`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } }, (res) => {
        let data = '';
        res.on('data', (chunk) => (data += chunk));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end();
    });
    const metadata = JSON.parse(body);
    expect(metadata.token_endpoint).toBe(`${herald.issuer}/token`);
    expect(body).not.toContain('evil.example');
  });

  test('JWKS publishes public keys only', async () => {
    const response = await fetch(`${herald.issuer}/jwks`);
    const { keys } = (await response.json()) as any;
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      expect(key.kid).toEqual(expect.any(String));
      for (const privateParam of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(privateParam);
    }
    expect(keys.map((k: { alg: string }) => k.alg)).toEqual(expect.arrayContaining(['ES256', 'RS256']));
  });

  test('a client-credentials token is an RFC 9068 JWT for the API that owns the scope', async () => {
    const tokens = await oidc.clientCredentialsGrant(service.config, { scope: 'trades:read' });
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const { payload } = await jwtVerify(tokens.access_token, jwks(), {
      issuer: herald.issuer,
      audience: 'https://api.example.com/trading',
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ client_id: 'svc', sub: 'svc', scope: 'trades:read', tier: 'gold' });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.exp! - payload.iat!).toBe(600);
    // Claims are exactly those configured for the granted scopes: nothing from `trades`.
    expect(payload).not.toHaveProperty('user_id');
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub', 'tier']);
  });

  test('RFC 8707 resource selects the API, and its signing algorithm', async () => {
    const tokens = await oidc.clientCredentialsGrant(service.config, { scope: 'invoices', resource: 'https://api.example.com/billing' });
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const { payload } = await jwtVerify(tokens.access_token, jwks(), { audience: 'https://api.example.com/billing', typ: 'at+jwt' });
    expect(payload).toMatchObject({ scope: 'invoices', billing_region: 'eu' });
  });

  test('client_secret_post works for clients registered with it', async () => {
    const peer = await oidc.discovery(new URL(herald.issuer), 'svc-post', { client_secret: SECRET }, oidc.ClientSecretPost(SECRET), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(peer, { scope: 'invoices' });
    expect(tokens.scope).toBe('invoices');
  });

  test('a client with one API gets it without naming a scope or resource', async () => {
    const one = await clientPeer(herald.issuer, 'svc-one', SECRET);
    const tokens = await oidc.clientCredentialsGrant(one.config, {});
    const { payload } = await jwtVerify(tokens.access_token, jwks(), { audience: 'https://api.example.com/trading' });
    expect(payload.client_id).toBe('svc-one');
  });

  const tokenRequest = (body: Record<string, string>, secret = SECRET, clientId = 'svc') =>
    fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams(body),
    });

  test.each([
    ['an unknown scope', { scope: 'nope' }, 'invalid_scope'],
    ['scopes of two APIs', { scope: 'trades invoices' }, 'invalid_scope'],
    ['a scope of another API than the resource', { scope: 'trades', resource: 'https://api.example.com/billing' }, 'invalid_scope'],
    ['an unknown resource', { scope: 'trades', resource: 'https://api.example.com/unknown' }, 'invalid_target'],
    ['a resource with a fragment', { resource: 'https://api.example.com/trading#x' }, 'invalid_target'],
    ['no scope and no resource for a client with two APIs', {}, 'invalid_target'],
  ])('%s is refused with %s', async (_label, params, error) => {
    const response = await tokenRequest({ grant_type: 'client_credentials', ...params });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toBe(error);
  });

  test('an API the client may not use is invalid_target', async () => {
    const response = await tokenRequest({ grant_type: 'client_credentials', scope: 'invoices' }, SECRET, 'svc-one');
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toMatch(/^invalid_(target|scope)$/);
  });

  test('a wrong secret and an unknown client are invalid_client, audited as token.refused', async () => {
    const wrong = await tokenRequest({ grant_type: 'client_credentials', scope: 'trades:read' }, `${SECRET}x`);
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error).toBe('invalid_client');
    const unknown = await tokenRequest({ grant_type: 'client_credentials' }, SECRET, 'nobody');
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as any).error).toBe('invalid_client');
    const refused = await herald.audit.find({ type: 'token.refused' });
    expect(refused.some((event) => event.reason === 'invalid_client' && event.clientId === 'svc')).toBe(true);
    // No secret reaches the audit trail.
    expect(JSON.stringify(refused)).not.toContain(SECRET);
  });

  test('issued tokens are audited without the token itself', async () => {
    const tokens = await oidc.clientCredentialsGrant(service.config, { scope: 'trades:read' });
    const events = await herald.audit.find({ type: 'token.issued', clientId: 'svc' });
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)!.data).toMatchObject({ grant_type: 'client_credentials', aud: 'https://api.example.com/trading' });
    expect(JSON.stringify(events)).not.toContain(tokens.access_token);
  });

  test('introspection reports a JWT access token active, and inactive after revocation', async () => {
    const tokens = await oidc.clientCredentialsGrant(service.config, { scope: 'trades:read' });
    const active = await oidc.tokenIntrospection(service.config, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: 'svc', scope: 'trades:read', aud: 'https://api.example.com/trading', tier: 'gold', token_type: 'Bearer' });
    expect(active.jti).toEqual(expect.any(String));
    await oidc.tokenRevocation(service.config, tokens.access_token);
    const after = await oidc.tokenIntrospection(service.config, tokens.access_token);
    expect(after.active).toBe(false);
    // A token signed by someone else is never active.
    const forged = tokens.access_token.slice(0, -4) + (tokens.access_token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await oidc.tokenIntrospection(service.config, forged)).active).toBe(false);
  });

  test('bad input never produces a 500', async () => {
    const malformed = await fetch(`${herald.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
    const huge = await fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&scope=${'a'.repeat(200_000)}`,
    });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    const hugeIntrospect = await fetch(`${herald.issuer}/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${'a'.repeat(200_000)}`,
    });
    expect(hugeIntrospect.status).toBeLessThan(500);
    const badJsonElsewhere = await fetch(`${herald.issuer}/interaction/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(badJsonElsewhere.status).toBe(400);
    const bigJson = await fetch(`${herald.issuer}/interaction/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(300_000) }) });
    expect(bigJson.status).toBe(413);
    const body = await bigJson.text();
    expect(body).not.toMatch(/at .*\.js/);
  });
});

describe('grant types a client is not registered for', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [{ id: 'web', secret: SECRET, redirectUris: ['http://127.0.0.1:9/cb'], grantTypes: ['authorization_code'], apis: ['trading'] }],
    }));
  });
  afterAll(() => herald?.stop());

  test('are unauthorized_client (RFC 6749 §5.2)', async () => {
    const response = await fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${SECRET}`).toString('base64')}` },
      body: 'grant_type=client_credentials&scope=trades',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toBe('unauthorized_client');
    const unknown = await fetch(`${herald.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`web:${SECRET}`).toString('base64')}` },
      body: 'grant_type=password&username=a&password=b',
    });
    expect(((await unknown.json()) as any).error).toBe('unsupported_grant_type');
  });
});
