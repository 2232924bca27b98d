/**
 * A person's data rights: export (admin API and `herald users export`) returns everything Herald
 * holds about them; delete (admin API and `herald users delete`) removes it — account, links,
 * group memberships, grants, sessions and refresh tokens, claim snapshots, cached claim-provider
 * answers, sign-ins in flight — and pseudonymizes the audit trail. Afterwards no row of any table
 * names the person, while other people's data is untouched.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { stringify } from 'yaml';
import { decodeJwt } from 'jose';
import type { HeraldConfigInput } from '../../src/config/config.schema.js';
import { runCli } from '../../src/cli/main.js';
import { startHerald, type TestHerald } from '../support/herald.js';
import { TestBrowser } from '../support/browser.js';
import { clientPeer, oidc, startAuthorization, type ClientPeer } from '../peers/client.js';
import { ClaimsApi } from '../peers/claims-api.js';
import { HERALD, SCIM_SECRET, ScimClient, patchOp, scimConfig } from '../scim/scim-support.js';
import { devSignIn } from '../claims/claims-support.js';

const WEB_SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const REDIRECT = 'http://127.0.0.1:9/app/callback';
const API_KEY = 'privacy-api-key-0123456789abcdef';

const JOHN = {
  userName: 'johnathan.privacy@example.com',
  externalId: 'dev-sub-johnathan',
  name: { givenName: 'Johnathan', familyName: 'Doe-Privacy' },
  emails: [{ value: 'johnathan.privacy@example.com', type: 'work', primary: true }],
  [HERALD]: { userId: 4242, locations: ['NY'] },
};
const JANE = {
  userName: 'jane.keep@example.com',
  externalId: 'dev-sub-jane',
  name: { givenName: 'Janette', familyName: 'Keeper' },
  emails: [{ value: 'jane.keep@example.com', type: 'work', primary: true }],
  [HERALD]: { userId: 5151 },
};
const upstream = (person: typeof JOHN | typeof JANE) => ({ sub: person.externalId, email: person.emails[0]!.value, email_verified: true, given_name: person.name.givenName });

describe('privacy: export and delete', () => {
  let api: ClaimsApi;
  let herald: TestHerald;
  let app: ClientPeer;
  let scim: ScimClient;
  let admin: ClientPeer;
  let configDir: string;
  let john: any;
  let jane: any;
  let johnTokens: { access_token: string; refresh_token?: string };

  const build = (issuer: string): HeraldConfigInput =>
    scimConfig(issuer, {
      apis: [{ id: 'trading', identifier: 'https://api.example.com/trading', scopes: ['trades'] }],
      scopes: { trades: { claims: [{ name: 'user_id', from: 'account', attribute: 'userId' }, { name: 'desk', from: 'provider', provider: 'settings' }] } },
      claimProviders: [
        { id: 'settings', url: `${api.origin}/users/{account.userId}/settings`, auth: { type: 'header', name: 'x-api-key', value: API_KEY }, onFailure: 'stale', cacheTtlSeconds: 300 },
      ],
      clients: [
        { id: 'web', secret: WEB_SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true },
        { id: 'ops', secret: SCIM_SECRET, grantTypes: ['client_credentials'], apis: ['admin'] },
      ],
      connectors: [{ type: 'dev', id: 'dev', name: 'Corporate (dev)' }],
      accountLinking: { byExternalId: ['dev'] },
    });

  beforeAll(async () => {
    api = await ClaimsApi.start({ apiKey: API_KEY });
    herald = await startHerald(build);
    app = await clientPeer(herald.issuer, 'web', WEB_SECRET, REDIRECT);
    admin = await clientPeer(herald.issuer, 'ops', SCIM_SECRET);
    scim = await ScimClient.connect(herald);
    configDir = mkdtempSync(join(tmpdir(), 'herald-privacy-'));
    writeFileSync(join(configDir, 'herald.yaml'), stringify({ ...build(herald.issuer), storage: { url: herald.database.url } }));

    api.settings.set('4242', { desk: 'NY-EQ' });
    api.settings.set('5151', { desk: 'LDN' });
    john = await scim.createUser(JOHN);
    jane = await scim.createUser(JANE);
    await scim.createGroup({ displayName: 'Desk heads', members: [{ value: john.id }, { value: jane.id }] });
    await scim.patch(`/Users/${john.id}`, patchOp({ op: 'add', path: 'title', value: 'Head of desk' }));
    // Both sign in (links, grants, sessions, refresh tokens, snapshots, cached claims, audit events).
    johnTokens = await (await devSignIn(app, upstream(JOHN), { scope: 'openid offline_access trades' })).redeem();
    expect(decodeJwt(johnTokens.access_token)).toMatchObject({ sub: john.id, user_id: 4242, desk: 'NY-EQ' });
    await (await devSignIn(app, upstream(JANE), { scope: 'openid offline_access trades' })).redeem();
    // John is in the middle of another sign-in: the upstream answered, Herald has not finished yet.
    const browser = new TestBrowser();
    const form = await browser.go((await startAuthorization(app, { scope: 'openid trades' })).url);
    await browser.submit(form, { claims: JSON.stringify(upstream(JOHN)) }, { action: '/connectors/dev/submit' }, (url) => url.includes('/continue'));
  });
  afterAll(async () => {
    await herald?.stop();
    await api?.stop();
  });

  const adminToken = async (scope: string) => (await oidc.clientCredentialsGrant(admin.config, { scope })).access_token;
  const adminCall = async (method: string, path: string, scope: string) =>
    fetch(`${herald.issuer}/admin/users/${path}`, { method, headers: { authorization: `Bearer ${await adminToken(scope)}` } });

  /** Every row of every table Herald owns, as text. */
  async function everyRow(): Promise<string> {
    const parts: string[] = [];
    for (const meta of herald.dataSource.entityMetadatas) {
      const rows = await herald.dataSource.getRepository(meta.target).find();
      parts.push(`${meta.tableName}: ${JSON.stringify(rows)}`);
    }
    return parts.join('\n').toLowerCase();
  }

  const identifiersOf = (person: typeof JOHN | typeof JANE, id: string) => [id, person.userName, person.externalId, person.name.givenName, person.name.familyName].map((s) => s.toLowerCase());

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => (out.push(String(chunk)), true));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => (err.push(String(chunk)), true));
    try {
      const code = await runCli(['node', 'herald', '--config', configDir, ...args]);
      return { code, stdout: out.join(''), stderr: err.join('') };
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  test('export: everything Herald holds about the person, without bearer secrets', async () => {
    expect((await adminCall('GET', `${john.id}/export`, 'admin:write')).status).toBe(403);
    const res = await adminCall('GET', `${john.id}/export`, 'admin:read');
    expect(res.status).toBe(200);
    const doc: any = await res.json();
    expect(doc).toMatchObject({
      subject: john.id,
      account: { id: john.id, userName: JOHN.userName, externalId: JOHN.externalId, active: true, managedBy: 'scim', attributes: { title: 'Head of desk', name: JOHN.name }, extension: { userId: 4242, locations: ['NY'] } },
      links: [{ connector: 'dev', subject: 'dev-sub-johnathan', lastAttributes: expect.objectContaining({ sub: 'dev-sub-johnathan' }) }],
      groups: [{ id: expect.any(String), displayName: 'Desk heads' }],
      consents: [expect.objectContaining({ clientId: 'web', openidScope: expect.stringContaining('openid'), resources: { 'https://api.example.com/trading': 'trades' } })],
      sessions: [expect.objectContaining({ clients: ['web'] })],
      claimSnapshots: [expect.objectContaining({ clientId: 'web', connectorId: 'dev' })],
      claimProviderValues: [{ provider: 'settings', value: { desk: 'NY-EQ' }, fetched: expect.any(String) }],
    });
    expect(doc.tokens.map((t: any) => t.kind).sort()).toEqual(expect.arrayContaining(['AccessToken', 'RefreshToken']));
    expect(doc.tokens.every((t: any) => t.clientId === 'web')).toBe(true);
    const types = doc.auditEvents.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(['user.created', 'user.updated', 'group.created', 'user.linked', 'login.succeeded', 'token.issued', 'consent.granted']));
    // Nothing about Jane (she was added to the group in the same event), and no token or code value.
    const text = JSON.stringify(doc);
    expect(text).not.toContain(jane.id);
    expect(doc.auditEvents.find((e: any) => e.type === 'group.created').data.added).toEqual([john.id, '(another user)']);
    expect(text).not.toContain(johnTokens.refresh_token!);
    expect(text).not.toContain(johnTokens.access_token);
    // The export itself is audited.
    const [exported] = (await herald.audit.find({ type: 'user.exported', userId: john.id })).slice(-1);
    expect(exported).toMatchObject({ clientId: 'ops', data: { via: 'admin' } });
    expect((await adminCall('GET', 'no-such-user/export', 'admin:read')).status).toBe(404);
  });

  test('herald users export: the same document from the CLI, by id or userName', async () => {
    const byName = await cli('users', 'export', JOHN.userName.toUpperCase());
    expect(byName.code).toBe(0);
    expect(JSON.parse(byName.stdout)).toMatchObject({ subject: john.id, links: [{ subject: 'dev-sub-johnathan' }] });
    const file = join(configDir, 'john.json');
    expect((await cli('users', 'export', john.id, '--out', file)).code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).subject).toBe(john.id);
  });

  test('delete (admin API): afterwards no row of any table names the person; others are untouched', async () => {
    const before = await everyRow();
    for (const identifier of identifiersOf(JOHN, john.id)) expect(before).toContain(identifier);
    const flowStates = Number((await herald.dataSource.query('SELECT COUNT(*) AS n FROM flow_states'))[0].n);
    expect(flowStates).toBeGreaterThan(0);
    const aboutJohn = (await herald.audit.find({ userId: john.id })).length;
    const janeEvents = (await herald.audit.find({ userId: jane.id })).length;

    expect((await adminCall('DELETE', john.id, 'admin:read')).status).toBe(403);
    const res = await adminCall('DELETE', john.id, 'admin:write');
    expect(res.status).toBe(200);
    const body: any = await res.json();
    expect(body).toMatchObject({ deleted: true, pseudonym: expect.stringMatching(/^erased-[0-9a-f]{24}$/), removed: { links: 1, claimSnapshots: 1, claimProviderValues: 1 } });
    expect(body.removed.oidcRecords).toBeGreaterThanOrEqual(4);
    expect(body.removed.flowStates).toBeGreaterThanOrEqual(1);

    const after = await everyRow();
    for (const identifier of identifiersOf(JOHN, john.id)) expect(after).not.toContain(identifier);
    // The audit trail keeps its events, now about a pseudonym.
    const pseudonymized = await herald.audit.find({ userId: body.pseudonym });
    expect(pseudonymized.length).toBe(aboutJohn + 1);
    expect(pseudonymized.at(-1)).toMatchObject({ type: 'user.deleted', clientId: 'ops', data: { via: 'admin', erasure: true } });
    // Jane's data is all there.
    for (const identifier of identifiersOf(JANE, jane.id)) expect(after).toContain(identifier);
    expect((await herald.audit.find({ userId: jane.id })).length).toBeGreaterThanOrEqual(janeEvents);
    const group = await scim.get('/Groups?filter=displayName%20eq%20%22Desk%20heads%22');
    expect(group.body.Resources[0].members.map((m: any) => m.value)).toEqual([jane.id]);

    // The account is gone everywhere it could act.
    expect((await scim.get(`/Users/${john.id}`)).status).toBe(404);
    expect(await oidc.refreshTokenGrant(app.config, johnTokens.refresh_token!).catch((e: unknown) => e)).toMatchObject({ error: 'invalid_grant' });
    expect((await adminCall('DELETE', john.id, 'admin:write')).status).toBe(404);
  });

  test('herald users delete: needs --yes, erases the person, and unknown users are an error', async () => {
    const refused = await cli('users', 'delete', jane.id);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('--yes');
    expect((await scim.get(`/Users/${jane.id}`)).status).toBe(200);

    const done = await cli('users', 'delete', JANE.userName, '--yes');
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/audit events now refer to erased-[0-9a-f]{24}/);
    const after = await everyRow();
    for (const identifier of identifiersOf(JANE, jane.id)) expect(after).not.toContain(identifier);

    const missing = await cli('users', 'export', jane.id);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no user');
  });
});
