/**
 * The provisioning dialects of Microsoft Entra ID and Okta (and Herald's own error cases),
 * replayed from request fixtures (test/scim/fixtures, modelled on the clients' documented and
 * observed traffic; see /work/notes/scim.md §1b). Each fixture states its set-up in prose; the
 * set-up below builds exactly that state, sends the request as it goes on the wire, and checks
 * the documented expectation plus the behaviour its notes describe.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { TestHerald } from '../support/herald.js';
import { UserEntity } from '../../src/users/user.entity.js';
import { CORE, ENTERPRISE, ERROR, GROUP, LIST, ScimClient, patchOp, startScimHerald, type ScimResponse } from './scim-support.js';

interface Fixture {
  description: string;
  setup?: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  expect: { status: number; body?: Record<string, unknown>; headers?: Record<string, string>; notes?: string };
}

const DIR = fileURLToPath(new URL('./fixtures', import.meta.url));
const FIXTURES: Array<[string, Fixture]> = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Fixture]);

const MAX_SCAN = 200;

const ENTRA_USER = {
  userName: 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee',
  externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
  emails: [{ value: 'Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com', type: 'work', primary: true }],
  name: { givenName: 'givenName', familyName: 'familyName', formatted: 'givenName familyName' },
  active: true,
};
const OKTA_USER = {
  userName: 'test.user@okta.local',
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: 'test.user@okta.local', type: 'work' }],
  active: true,
};

type Vars = Record<string, string>;

function substitute<T>(value: T, vars: Vars): T {
  const text = JSON.stringify(value ?? null).replace(/\{(userId|user2Id|managerId|groupId|memberId|etag)\}/g, (m, name: string) => {
    const v = vars[name];
    if (v === undefined) return m;
    return JSON.stringify(v).slice(1, -1); // escaped for inclusion in a JSON string
  });
  return JSON.parse(text) as T;
}

function substitutePath(path: string, vars: Vars): string {
  return path.replace(/\{(userId|user2Id|managerId|groupId|memberId)\}/g, (m, name: string) => vars[name] ?? m);
}

describe('SCIM provisioning fixtures (Microsoft Entra ID, Okta, Herald error cases)', () => {
  let herald: TestHerald;
  let scim: ScimClient;

  beforeAll(async () => {
    herald = await startScimHerald({ scim: { maxScan: MAX_SCAN } });
    scim = await ScimClient.connect(herald);
  });
  afterAll(() => herald?.stop());

  beforeEach(async () => {
    for (const table of ['user_group_members', 'user_groups', 'user_links', 'users']) await herald.dataSource.query(`DELETE FROM ${table}`);
  });

  /** Inserts `n` plain users directly (faster than HTTP; the list tests only read them). */
  async function bulkUsers(n: number): Promise<void> {
    const now = Date.now();
    const rows = Array.from({ length: n }, (_, i) =>
      Object.assign(new UserEntity(), {
        id: randomUUID(),
        userName: `bulk-${String(i).padStart(4, '0')}@example.com`,
        userNameLower: `bulk-${String(i).padStart(4, '0')}@example.com`,
        externalId: null,
        active: true,
        email: null,
        emailVerified: false,
        core: { title: i % 2 ? 'analyst' : 'trader' },
        enterprise: {},
        custom: {},
        version: 1,
        managedBy: 'scim',
        createdAt: now + i,
        updatedAt: now + i,
      }),
    );
    for (let i = 0; i < rows.length; i += 50) await herald.dataSource.getRepository(UserEntity).insert(rows.slice(i, i + 50));
  }

  /** Builds the state a fixture's `setup` describes; returns the placeholder values. */
  async function setUp(setup: string | undefined): Promise<Vars> {
    const vars: Vars = {};
    if (!setup) {
      // Some request bodies name a manager or member that must exist.
      vars.managerId = (await scim.createUser({ userName: 'manager@example.com' })).id;
      return vars;
    }
    if (setup.startsWith('User {userId} exists: userName "Test_User')) {
      const user: Record<string, any> = structuredClone(ENTRA_USER);
      if (/manager|\{managerId\}/.test(setup)) vars.managerId = (await scim.createUser({ userName: 'manager@example.com' })).id;
      if (setup.includes('manager.value')) user[ENTERPRISE] = { manager: { value: vars.managerId } };
      if (setup.includes('home email "home@example.com"')) user.emails.push({ value: 'home@example.com', type: 'home' });
      const created = await scim.createUser(user);
      vars.userId = created.id;
      vars.etag = created.meta.version;
    } else if (setup.startsWith('User {userId} exists: userName "test.user@okta.local"')) {
      const created = await scim.createUser({ ...OKTA_USER, active: !setup.includes('but active false') });
      vars.userId = created.id;
    } else if (setup.startsWith('Group {groupId} exists')) {
      const [, displayName, externalId] = /displayName "([^"]*)"(?:, externalId "([^"]*)")?/.exec(setup)!;
      vars.memberId = (await scim.createUser({ userName: 'member@example.com', displayName: 'Member One' })).id;
      vars.userId = (await scim.createUser({ ...OKTA_USER })).id;
      const members = [{ value: vars.memberId }];
      if (setup.includes('{userId} added as a member too')) members.push({ value: vars.userId });
      vars.groupId = (await scim.createGroup({ displayName, ...(externalId ? { externalId } : {}), members })).id;
    } else if (setup === 'User {userId} with no phoneNumbers and no addresses') {
      vars.userId = (await scim.createUser({ userName: 'plain@example.com' })).id;
    } else if (setup === 'User {userId} with enterprise manager.value {managerId}') {
      vars.managerId = (await scim.createUser({ userName: 'manager@example.com' })).id;
      vars.userId = (await scim.createUser({ userName: 'report@example.com', [ENTERPRISE]: { manager: { value: vars.managerId } } })).id;
    } else if (setup === '150 users exist') {
      await bulkUsers(150);
    } else if (setup.startsWith('More resources than scim.maxScan')) {
      await bulkUsers(MAX_SCAN + 1);
    } else {
      throw new Error(`unknown fixture set-up: ${setup}`);
    }
    return vars;
  }

  /** What each fixture's notes promise beyond status and body. */
  const after: Record<string, (res: ScimResponse, vars: Vars, fixture: Fixture) => Promise<void>> = {
    'entra-user-create': async (res) => {
      expect(res.body).toMatchObject({ userName: 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee', externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef', active: true });
      expect(res.body).not.toHaveProperty('roles');
      expect(res.body.meta).toMatchObject({ resourceType: 'User', location: res.headers.get('location'), version: res.headers.get('etag') });
      expect(res.body.meta.created).toEqual(res.body.meta.lastModified);
    },
    'entra-user-create-legacy-nulls': async (res) => {
      for (const key of ['addresses', 'phoneNumbers', 'preferredLanguage', 'title', 'department', 'manager']) expect(res.body).not.toHaveProperty(key);
      expect(res.body.schemas).toEqual([CORE]);
      expect(res.body.emails).toEqual([{ type: 'work', value: 'jyoung@Contoso.com', primary: true }]);
    },
    'entra-user-create-custom-extension': async (res) => {
      expect(res.body.schemas).toEqual([CORE, ENTERPRISE, 'urn:ietf:params:scim:schemas:extension:herald:2.0:User']);
      // A numeric string is coerced; anything else is refused.
      const coerced = await scim.post('/Users', { schemas: [CORE], userName: 'coerced@example.com', 'urn:ietf:params:scim:schemas:extension:herald:2.0:User': { userId: '42' } });
      expect(coerced.body['urn:ietf:params:scim:schemas:extension:herald:2.0:User']).toEqual({ userId: 42 });
      const refused = await scim.post('/Users', { schemas: [CORE], userName: 'refused@example.com', 'urn:ietf:params:scim:schemas:extension:herald:2.0:User': { userId: '4x2' } });
      expect(refused.status).toBe(400);
      expect(refused.body.scimType).toBe('invalidValue');
    },
    'entra-user-get': async (res, vars) => {
      expect(res.body.id).toBe(vars.userId);
      // Deactivated users are still returned.
      await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'replace', path: 'active', value: false }));
      const again = await scim.get(`/Users/${vars.userId}`);
      expect(again.status).toBe(200);
      expect(again.body.active).toBe(false);
    },
    'entra-user-filter-externalid': async () => {
      const upper = await scim.get(`/Users?filter=${encodeURIComponent('externalId eq "0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF"')}`);
      expect(upper.body.totalResults).toBe(0);
    },
    'entra-user-filter-username': async (res, vars) => {
      expect(res.body.Resources[0].id).toBe(vars.userId);
      // Entra may encode spaces as "+".
      const plus = await scim.get('/Users?filter=userName+eq+%22TEST_USER_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22');
      expect(plus.body.totalResults).toBe(1);
    },
    'entra-user-filter-work-email': async () => {
      // The home email must not match a filter on the work email (correlated value filter).
      const home = await scim.get(`/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "home@example.com"')}`);
      expect(home.body.totalResults).toBe(0);
    },
    'entra-user-filter-manager-and-id': async (res, vars) => {
      expect(res.body.Resources).toEqual([{ schemas: [CORE], id: vars.userId }]);
      const unqualified = await scim.get(`/Users?filter=${encodeURIComponent(`manager eq "${vars.managerId}"`)}&attributes=id`);
      expect(unqualified.body.Resources).toEqual([{ schemas: [CORE], id: vars.userId }]);
    },
    'entra-user-patch-replace-multi-valued': async (res) => {
      expect(res.body.emails).toHaveLength(1);
      expect(res.body.name.formatted).toBe('givenName familyName');
    },
    'entra-user-patch-replace-many-paths-legacy': async (res) => {
      expect(res.body.schemas).toContain(ENTERPRISE);
      expect(res.body.emails).toEqual([{ value: 'TestBcwqnm@test.microsoft.com', type: 'work', primary: true }]);
    },
    'entra-user-patch-replace-username': async (res, vars) => {
      expect(res.body.userName).toBe('5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');
      const other = await scim.createUser({ userName: 'other@testuser.com' });
      const clash = await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'Replace', path: 'userName', value: 'OTHER@testuser.com' }));
      expect(clash.status).toBe(409);
      expect(clash.body.scimType).toBe('uniqueness');
      expect(other.id).toBeDefined();
    },
    'entra-user-patch-add-roles': async (res, vars, fixture) => {
      expect(res.body.roles).toHaveLength(2);
      expect(res.body.roles[0].value).toContain('"value":"Admin"');
      const again = await scim.patch(`/Users/${vars.userId}`, substitute(fixture.body, vars));
      expect(again.body.meta.version).toBe(res.body.meta.version);
      expect(again.body.roles).toHaveLength(2);
    },
    'entra-user-patch-remove-manager-filter': async (res, vars) => {
      expect(res.body).not.toHaveProperty(ENTERPRISE);
      // Removing again is a no-op, and the plain form works too.
      const again = await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'remove', path: `manager[value eq "${vars.managerId}"]` }));
      expect(again.status).toBe(200);
      await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'add', path: 'manager', value: vars.managerId }));
      const plain = await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'Remove', path: `${ENTERPRISE}:manager` }));
      expect(plain.body).not.toHaveProperty(ENTERPRISE);
    },
    'entra-user-patch-add-manager-array-legacy': async (res, vars) => {
      const two = await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'Add', path: 'manager', value: [{ value: vars.managerId }, { value: vars.userId }] }));
      expect(two.status).toBe(400);
      expect(two.body.scimType).toBe('invalidValue');
      expect(res.body[ENTERPRISE].manager.value).toBe(vars.managerId);
    },
    'entra-user-patch-disable-string-boolean': async (_res, vars) => {
      const maybe = await scim.patch(`/Users/${vars.userId}`, patchOp({ op: 'Replace', path: 'active', value: 'maybe' }));
      expect(maybe.status).toBe(400);
      expect(maybe.body.scimType).toBe('invalidValue');
    },
    'entra-user-delete': async (_res, vars) => {
      expect((await scim.get(`/Users/${vars.userId}`)).status).toBe(404);
      expect((await scim.delete(`/Users/${vars.userId}`)).status).toBe(404);
    },
    'entra-group-create': async (res) => {
      expect(res.body.schemas).toEqual([GROUP]);
      const dup = await scim.post('/Groups', { schemas: [GROUP], displayName: 'DISPLAYNAME' });
      expect(dup.status).toBe(409);
      expect(dup.body.scimType).toBe('uniqueness');
    },
    'entra-group-get-excluded-members': async (res, vars) => {
      expect(res.body).not.toHaveProperty('members');
      expect(res.body).toMatchObject({ id: vars.groupId, schemas: [GROUP], displayName: 'displayName' });
      expect(res.body.meta.location).toContain(`/scim/v2/Groups/${vars.groupId}`);
    },
    'entra-group-filter-displayname': async (res) => {
      expect(res.body.Resources[0]).not.toHaveProperty('members');
    },
    'entra-group-patch-add-members': async (_res, vars, fixture) => {
      const group = await scim.get(`/Groups/${vars.groupId}`);
      expect(group.body.members.map((m: any) => m.value).sort()).toEqual([vars.memberId, vars.userId].sort());
      const again = await scim.patch(`/Groups/${vars.groupId}`, substitute(fixture.body, vars));
      expect(again.status).toBe(204);
      expect(again.headers.get('etag')).toBe(group.body.meta.version);
      const unknown = await scim.patch(`/Groups/${vars.groupId}`, patchOp({ op: 'Add', path: 'members', value: [{ value: randomUUID() }] }));
      expect(unknown.status).toBe(400);
      expect(unknown.body.scimType).toBe('invalidValue');
      // The user's own `groups` attribute shows the membership.
      const user = await scim.get(`/Users/${vars.userId}`);
      expect(user.body.groups).toEqual([expect.objectContaining({ value: vars.groupId, display: 'displayName', type: 'direct' })]);
    },
    'entra-group-patch-remove-members-by-value': async (_res, vars) => {
      const group = await scim.get(`/Groups/${vars.groupId}`);
      expect(group.body.members.map((m: any) => m.value)).toEqual([vars.memberId]);
    },
    'entra-group-patch-remove-members-filter': async (_res, vars, fixture) => {
      const group = await scim.get(`/Groups/${vars.groupId}`);
      expect(group.body).not.toHaveProperty('members');
      const again = await scim.patch(`/Groups/${vars.groupId}`, substitute(fixture.body, vars));
      expect(again.status).toBe(204);
    },
    'entra-group-patch-replace-displayname': async (_res, vars) => {
      expect((await scim.get(`/Groups/${vars.groupId}`)).body.displayName).toBe('1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName');
      const withAttributes = await scim.patch(`/Groups/${vars.groupId}?attributes=displayName`, patchOp({ op: 'Replace', path: 'displayName', value: 'again' }));
      expect(withAttributes.status).toBe(200);
      expect(withAttributes.body).toEqual({ schemas: [GROUP], id: vars.groupId, displayName: 'again' });
    },
    'entra-group-delete': async (_res, vars) => {
      expect((await scim.get(`/Groups/${vars.groupId}`)).status).toBe(404);
      expect((await scim.get(`/Users/${vars.memberId}`)).body).not.toHaveProperty('groups');
    },
    'entra-schema-discovery': async (res) => {
      expect(res.body.Resources.map((s: any) => s.id)).toEqual([CORE, ENTERPRISE, 'urn:ietf:params:scim:schemas:extension:herald:2.0:User', GROUP]);
      expect(JSON.stringify(res.body)).not.toContain('null');
    },
    'herald-error-patch-atomic': async (_res, vars) => {
      const user = await scim.get(`/Users/${vars.userId}`);
      expect(user.body).not.toHaveProperty('title');
      expect(user.body.meta.version).toBe(vars.etag);
    },
    'herald-error-patch-no-target': async (_res, vars) => {
      expect((await scim.get(`/Users/${vars.userId}`)).body.meta.version).toBe(vars.etag);
    },
    'herald-etag-if-match-ok': async (res, vars) => {
      expect(res.headers.get('etag')).not.toBe(vars.etag);
      expect(res.body.meta.version).toBe(res.headers.get('etag'));
      // PUT cleared what it did not repeat.
      expect(res.body).not.toHaveProperty('emails');
    },
    'herald-etag-if-match-mismatch': async (_res, vars) => {
      const user = await scim.get(`/Users/${vars.userId}`);
      expect(user.body).not.toHaveProperty('title');
      for (const method of ['PUT', 'DELETE'] as const) {
        const refused = await scim.request(method, `/Users/${vars.userId}`, method === 'PUT' ? { schemas: [CORE], userName: 'x@example.com' } : undefined, { 'If-Match': 'W/"stale"' });
        expect(refused.status).toBe(412);
      }
      expect((await scim.get(`/Users/${vars.userId}`)).body.userName).toBe(ENTRA_USER.userName);
    },
    'herald-etag-if-none-match-304': async (res, vars) => {
      expect(res.headers.get('etag')).toBe(vars.etag);
      expect(res.body).toBeUndefined();
      const changed = await scim.get(`/Users/${vars.userId}`, { 'If-None-Match': 'W/"999"' });
      expect(changed.status).toBe(200);
    },
    'okta-user-create': async (res) => {
      expect(res.body).not.toHaveProperty('password');
      expect(res.body).not.toHaveProperty('groups');
      expect(JSON.stringify(await herald.dataSource.query('SELECT * FROM users'))).not.toContain('1mz050nq');
    },
    'okta-user-put-replace': async (res) => {
      expect(res.body.emails).toEqual([{ primary: true, value: 'test.user@okta.local', type: 'work', display: 'test.user@okta.local' }]);
      expect(res.body.meta.version).toBe('W/"2"');
    },
    'okta-user-patch-password-sync': async (res) => {
      expect(res.body).not.toHaveProperty('password');
      expect(res.body.meta.version).toBe('W/"1"');
    },
    'okta-group-patch-members-add-remove': async (_res, vars) => {
      const group = await scim.get(`/Groups/${vars.groupId}`);
      expect(group.body.members.map((m: any) => m.value)).toEqual([vars.userId]);
      expect(group.body.members[0]).toMatchObject({ type: 'User', display: 'test.user@okta.local' });
    },
    'okta-group-patch-members-replace': async (_res, vars) => {
      const group = await scim.get(`/Groups/${vars.groupId}`);
      expect(group.body.members.map((m: any) => m.value).sort()).toEqual([vars.userId, vars.memberId].sort());
    },
    'okta-group-patch-rename': async (_res, vars) => {
      expect((await scim.get(`/Groups/${vars.groupId}`)).body.displayName).toBe('Test SCIMv20');
      const otherId = await scim.patch(`/Groups/${vars.groupId}`, patchOp({ op: 'replace', value: { id: randomUUID(), displayName: 'x' } }));
      expect(otherId.status).toBe(400);
      expect(otherId.body.scimType).toBe('mutability');
    },
    'okta-groups-page': async (res) => {
      expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    },
    'okta-test-connection-list': async (res) => {
      expect(Number.isInteger(res.body.totalResults)).toBe(true);
      expect(res.body.itemsPerPage).toBeLessThanOrEqual(2);
    },
    'okta-users-page': async (res) => {
      const first = await scim.get('/Users?startIndex=1&count=100');
      const firstIds = new Set(first.body.Resources.map((r: any) => r.id));
      expect(first.body.itemsPerPage).toBe(100);
      expect(res.body.Resources.every((r: any) => !firstIds.has(r.id))).toBe(true);
      expect(res.body.Resources[0].userName).toBe('bulk-0100@example.com');
    },
  };

  test.each(FIXTURES)('%s', async (name, raw) => {
    const vars = await setUp(raw.setup);
    // Some fixtures (okta-groups-page) list what a previous step created.
    if (name === 'okta-groups-page') await scim.createGroup({ displayName: 'Test SCIMv2' });
    const fixture = substitute(raw, vars);
    const headers = { ...(fixture.headers ?? {}) };
    const res = await scim.request(fixture.method, substitutePath(raw.path, vars), fixture.body ?? undefined, headers);
    if (res.status !== fixture.expect.status) throw new Error(`${name}: expected ${fixture.expect.status}, got ${res.status}: ${JSON.stringify(res.body)}`);
    if (fixture.expect.body) expect(res.body).toMatchObject(fixture.expect.body);
    if (res.status >= 400) {
      expect(res.body).toMatchObject({ schemas: [ERROR], status: String(res.status) });
      expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    }
    if (res.body !== undefined) expect(res.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    if (fixture.expect.headers?.ETag) expect(res.headers.get('etag')).toMatch(/^W\/"\d+"$/);
    if (fixture.expect.headers?.Location) expect(res.headers.get('location')).toBe(`${herald.issuer}/scim/v2/Users/${res.body.id}`);
    await after[name]?.(res, vars, raw);
  });
});
