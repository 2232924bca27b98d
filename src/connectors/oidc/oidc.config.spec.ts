import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { validateConfig } from '../../config/config.loader.js';
import { ConfigError } from '../../config/config.errors.js';
import { ConnectorError } from '../connector.js';
import { oidcConnectorConfigSchema } from './oidc.config.js';
import { identityFromClaims } from './oidc-identity.js';
import { authorizationError } from './oidc-errors.js';

const base = { type: 'oidc', id: 'corp', name: 'Corp', issuer: 'https://login.corp.example', clientId: 'herald', clientSecret: 's3cret' };

function problems(connector: Record<string, unknown>): string[] {
  try {
    validateConfig({ issuer: 'https://herald.example', connectors: [connector] }, { env: {} });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

describe('OIDC connector config', () => {
  test('a minimal entry gets safe defaults', () => {
    const config = oidcConnectorConfigSchema.parse(base);
    expect(config).toMatchObject({
      authMethod: 'client_secret_basic',
      scopes: ['openid', 'profile', 'email'],
      userinfo: true,
      forwardLoginHint: true,
      assumeEmailVerified: false,
      timeouts: { connectMs: 3000, totalMs: 10000 },
      jwksCooldownSeconds: 30,
      claims: { subject: 'sub', email: 'email', emailVerified: 'email_verified' },
    });
  });

  test.each([
    [{ issuer: 'https://login.corp.example/.well-known/openid-configuration' }, 'connectors[0].issuer: expected the issuer identifier'],
    [{ issuer: 'https://login.corp.example/?tenant=1' }, 'connectors[0].issuer: an issuer identifier has no query'],
    [{ issuer: 'http://login.corp.example' }, 'connectors[0].issuer: expected an https:// issuer'],
    [{ issuer: 'ftp://login.corp.example' }, 'connectors[0].issuer: expected an http(s) URL'],
    [{ clientSecret: undefined }, 'connectors[0].clientSecret: expected a clientSecret for authMethod client_secret_basic'],
    [{ authMethod: 'private_key_jwt', clientSecret: undefined }, 'connectors[0].privateKey: expected privateKey or privateKeyFile'],
    [{ authMethod: 'private_key_jwt', privateKey: '-----BEGIN PRIVATE KEY-----', privateKeyFile: 'k.pem' }, 'connectors[0].privateKeyFile: give either'],
    [{ scopes: ['profile', 'email'] }, 'connectors[0].scopes: the scopes must include "openid"'],
    [{ authorizationParams: { prompt: 'login', redirect_uri: 'https://evil.example' } }, 'connectors[0].authorizationParams: these parameters are set by Herald'],
    [{ timeouts: { connectMs: 0 } }, 'connectors[0].timeouts.connectMs'],
    [{ clientSecrets: 'typo' }, 'connectors[0].clientSecrets: unknown key'],
  ])('%j is refused with the dotted key', (change, expected) => {
    const found = problems({ ...base, ...change });
    expect(found.some((p) => p.startsWith(expected))).toBe(true);
  });

  test.each([
    [{ issuer: 'http://127.0.0.1:8080' }],
    [{ issuer: 'http://localhost:8080/realms/corp' }],
    [{ issuer: 'http://keycloak:8080/realms/corp', allowInsecureHttp: true }],
    [{ authorizationParams: { prompt: 'select_account', domain_hint: 'corp.example' } }],
  ])('%j is accepted', (change) => {
    expect(problems({ ...base, ...change })).toEqual([]);
  });

  test('every field is in the reference of docs/connectors-oidc.md', () => {
    const doc = readFileSync('docs/connectors-oidc.md', 'utf8');
    for (const name of Object.keys(oidcConnectorConfigSchema.shape)) expect([name, doc.includes(`| \`${name}`)]).toEqual([name, true]);
  });

  test('every field is described', () => {
    const schema = z.toJSONSchema(oidcConnectorConfigSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }> };
    for (const [name, property] of Object.entries(schema.properties)) {
      if (name === 'type') continue;
      expect([name, property.description]).toEqual([name, expect.any(String)]);
      for (const [inner, nested] of Object.entries(property.properties ?? {})) expect([`${name}.${inner}`, nested.description]).toEqual([`${name}.${inner}`, expect.any(String)]);
    }
  });
});

describe('identity from upstream claims', () => {
  const config = oidcConnectorConfigSchema.parse(base);

  test('ID token claims win over userinfo; userinfo fills in', () => {
    const identity = identityFromClaims(
      config,
      'https://login.corp.example',
      { sub: 'u1', iss: 'https://login.corp.example', nonce: 'n', email: 'A@Corp.example', email_verified: true, amr: ['pwd', 7], acr: 'loa2', auth_time: 1700000000 },
      { sub: 'u1', email: 'other@corp.example', name: 'Ann', groups: ['g'] },
    );
    expect(identity).toMatchObject({ subject: 'u1', email: 'a@corp.example', emailVerified: true, name: 'Ann', amr: ['pwd'], acr: 'loa2', authTime: 1700000000 });
    expect(identity.attributes).toMatchObject({ groups: ['g'], email: 'A@Corp.example' });
    expect(identity.attributes).not.toHaveProperty('nonce');
    expect(identity.protocol).toEqual({ kind: 'oidc', issuer: 'https://login.corp.example', idToken: expect.not.objectContaining({ nonce: 'n' }), userinfo: expect.objectContaining({ groups: ['g'] }) });
  });

  test('only a JSON true verifies an email, unless the connector vouches for its IdP', () => {
    expect(identityFromClaims(config, 'x', { sub: 'u', email: 'a@b.example', email_verified: 'true' }, {}).emailVerified).toBe(false);
    expect(identityFromClaims({ ...config, assumeEmailVerified: true }, 'x', { sub: 'u', email: 'a@b.example' }, {}).emailVerified).toBe(true);
    expect(identityFromClaims({ ...config, assumeEmailVerified: true }, 'x', { sub: 'u' }, {}).emailVerified).toBe(false);
  });

  test('a mapped subject claim (Entra ID oid) is used, and its absence is a protocol error', () => {
    const mapped = { ...config, claims: { ...config.claims, subject: 'oid', email: 'preferred_username' } };
    expect(identityFromClaims(mapped, 'x', { sub: 'pairwise', oid: '00000000-1111', preferred_username: 'ann@corp.example' }, {})).toMatchObject({ subject: '00000000-1111', email: 'ann@corp.example' });
    expect(() => identityFromClaims(mapped, 'x', { sub: 'pairwise' }, {})).toThrow(ConnectorError);
  });
});

describe('upstream authorization errors', () => {
  test.each([
    ['access_denied', 'access_denied', 'upstream_access_denied', 'access_denied'],
    ['login_required', 'access_denied', 'upstream_login_required', 'access_denied'],
    ['temporarily_unavailable', 'upstream_unavailable', 'upstream_temporarily_unavailable', 'temporarily_unavailable'],
    ['invalid_scope', 'upstream_protocol', 'upstream_error', 'access_denied'],
    ['<script>', 'upstream_protocol', 'upstream_error', 'access_denied'],
  ])('error=%s', (code, kind, reason, oauthError) => {
    const error = authorizationError(code, 'desc');
    expect({ kind: error.kind, reason: error.reason, oauthError: error.oauthError }).toEqual({ kind, reason, oauthError });
    expect(error.detail).not.toContain('<script>');
  });
});
