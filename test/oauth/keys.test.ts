import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { stringify } from 'yaml';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { clientPeer, oidc, type ClientPeer } from '../peers/client.js';
import { runCli } from '../../src/cli/main.js';

const SECRET = 'service-secret-0123456789abcdef-0123456789';

describe('signing keys: rotation and the admin API', () => {
  let herald: TestHerald;
  let service: ClientPeer;
  let admin: ClientPeer;
  let configDir: string;

  beforeAll(async () => {
    const build = (issuer: string) => ({
      ...baseConfig(issuer),
      keys: { refreshIntervalSeconds: 3600 },
      clients: [
        { id: 'svc', secret: SECRET, grantTypes: ['client_credentials' as const], apis: ['trading'] },
        { id: 'ops', secret: SECRET, grantTypes: ['client_credentials' as const], apis: ['admin'] },
      ],
    });
    herald = await startHerald(build);
    service = await clientPeer(herald.issuer, 'svc', SECRET);
    admin = await clientPeer(herald.issuer, 'ops', SECRET);
    // The CLI reads the same database through a config directory, as an operator would.
    configDir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    const cliConfig = { ...build(herald.issuer), storage: { url: herald.database.url } };
    writeFileSync(join(configDir, 'herald.yaml'), stringify(cliConfig));
  });
  afterAll(() => herald?.stop());

  const adminToken = async (scope: string) => (await oidc.clientCredentialsGrant(admin.config, { scope })).access_token;

  test('a token signed before `herald keys rotate` still verifies after it; new tokens use the new key', async () => {
    const before = await oidc.clientCredentialsGrant(service.config, { scope: 'trades:read' });
    const oldKid = decodeProtectedHeader(before.access_token).kid;

    const code = await runCli(['node', 'herald', '--config', configDir, 'keys', 'rotate']);
    expect(code).toBe(0);

    const reload = await fetch(`${herald.issuer}/admin/keys/reload`, { method: 'POST', headers: { authorization: `Bearer ${await adminToken('admin:write')}` } });
    expect(reload.status).toBe(201);
    expect(await reload.json()).toEqual({ reloaded: true });

    const after = await oidc.clientCredentialsGrant(service.config, { scope: 'trades:read' });
    const newKid = decodeProtectedHeader(after.access_token).kid;
    expect(newKid).not.toBe(oldKid);

    const jwks = createRemoteJWKSet(new URL(`${herald.issuer}/jwks`));
    await expect(jwtVerify(before.access_token, jwks, { audience: 'https://api.example.com/trading' })).resolves.toBeDefined();
    await expect(jwtVerify(after.access_token, jwks, { audience: 'https://api.example.com/trading' })).resolves.toBeDefined();

    const listed = await (await fetch(`${herald.issuer}/admin/keys`, { headers: { authorization: `Bearer ${await adminToken('admin:read')}` } })).json() as any;
    const states = Object.fromEntries(listed.keys.map((k: { kid: string; state: string }) => [k.kid, k.state]));
    expect(states[oldKid!]).toBe('retiring');
    expect(states[newKid!]).toBe('active');
    const rotated = await herald.audit.find({ type: 'key.rotated' });
    expect(rotated.some((e) => (e.data as any)?.reason === 'cli')).toBe(true);
  });

  test('the admin API requires a Herald token for it with the right scope', async () => {
    const none = await fetch(`${herald.issuer}/admin/keys`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);

    const readOnly = await fetch(`${herald.issuer}/admin/keys/reload`, { method: 'POST', headers: { authorization: `Bearer ${await adminToken('admin:read')}` } });
    expect(readOnly.status).toBe(403);
    expect(((await readOnly.json()) as any).error).toBe('insufficient_scope');

    const otherApi = (await oidc.clientCredentialsGrant(service.config, { scope: 'trades:read' })).access_token;
    const wrongAudience = await fetch(`${herald.issuer}/admin/keys`, { headers: { authorization: `Bearer ${otherApi}` } });
    expect(wrongAudience.status).toBe(401);

    const token = await adminToken('admin:read');
    const tampered = token.slice(0, -6) + (token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    expect((await fetch(`${herald.issuer}/admin/keys`, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
  });
});

describe('signing algorithms per API', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      issuer,
      apis: [
        { id: 'ps', identifier: 'https://ps.example', scopes: ['ps'], signingAlg: 'PS256' },
        { id: 'ed', identifier: 'https://ed.example', scopes: ['ed'], signingAlg: 'EdDSA' },
        { id: 'es384', identifier: 'https://es384.example', scopes: ['es384'], signingAlg: 'ES384' },
      ],
      clients: [{ id: 'svc', secret: SECRET, grantTypes: ['client_credentials'], apis: ['ps', 'ed', 'es384'] }],
    }));
  });
  afterAll(() => herald?.stop());

  test.each([
    ['ps', 'PS256', 'https://ps.example'],
    ['ed', 'EdDSA', 'https://ed.example'],
    ['es384', 'ES384', 'https://es384.example'],
  ])('scope %s is signed with %s and verifies against the JWKS', async (scope, alg, audience) => {
    const peer = await clientPeer(herald.issuer, 'svc', SECRET);
    const tokens = await oidc.clientCredentialsGrant(peer.config, { scope });
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg, typ: 'at+jwt' });
    await expect(jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${herald.issuer}/jwks`)), { audience, algorithms: [alg] })).resolves.toBeDefined();
  });
});
