/**
 * SCIM Groups over HTTP: CRUD, membership (users and nested groups), the users' derived `groups`
 * attribute and its versions, uniqueness of displayName, filters, ETags and audit events.
 */
import { randomUUID } from 'node:crypto';
import type { TestHerald } from '../support/herald.js';
import { ERROR, GROUP, ScimClient, patchOp, startScimHerald } from './scim-support.js';

describe('SCIM Groups', () => {
  let herald: TestHerald;
  let scim: ScimClient;
  let alice: any;
  let bob: any;

  beforeAll(async () => {
    herald = await startScimHerald();
    scim = await ScimClient.connect(herald);
  });
  afterAll(() => herald?.stop());

  beforeEach(async () => {
    for (const table of ['user_group_members', 'user_groups', 'user_links', 'users']) await herald.dataSource.query(`DELETE FROM ${table}`);
    alice = await scim.createUser({ userName: 'alice@example.com', displayName: 'Alice A' });
    bob = await scim.createUser({ userName: 'bob@example.com' });
  });

  test('create with members, read, list and filter', async () => {
    const created = await scim.post('/Groups', { schemas: [GROUP], displayName: 'Traders', externalId: 'grp-1', members: [{ value: alice.id }, { value: bob.id, type: 'User' }] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${herald.issuer}/scim/v2/Groups/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.body).toEqual({
      schemas: [GROUP],
      id: created.body.id,
      externalId: 'grp-1',
      displayName: 'Traders',
      members: [
        { value: alice.id, $ref: `${herald.issuer}/scim/v2/Users/${alice.id}`, type: 'User', display: 'Alice A' },
        { value: bob.id, $ref: `${herald.issuer}/scim/v2/Users/${bob.id}`, type: 'User', display: 'bob@example.com' },
      ],
      meta: { resourceType: 'Group', created: expect.any(String), lastModified: expect.any(String), location: created.headers.get('location'), version: 'W/"1"' },
    });
    await scim.createGroup({ displayName: 'Sales' });
    const byMember = await scim.get(`/Groups?filter=${encodeURIComponent(`members[value eq "${bob.id}"]`)}`);
    expect(byMember.body.Resources.map((g: any) => g.displayName)).toEqual(['Traders']);
    const sorted = await scim.get('/Groups?sortBy=displayName&attributes=displayName');
    expect(sorted.body.Resources.map((g: any) => g.displayName)).toEqual(['Sales', 'Traders']);
    expect(sorted.body.Resources[0]).toEqual({ schemas: [GROUP], id: expect.any(String), displayName: 'Sales' });
    const byName = await scim.get(`/Groups?filter=${encodeURIComponent('displayName eq "TRADERS"')}&excludedAttributes=members`);
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0]).not.toHaveProperty('members');
  });

  test('users show their groups; membership changes give them a new version', async () => {
    const group = await scim.createGroup({ displayName: 'Traders', members: [{ value: alice.id }] });
    const aliceNow = await scim.get(`/Users/${alice.id}`);
    expect(aliceNow.body.groups).toEqual([{ value: group.id, $ref: `${herald.issuer}/scim/v2/Groups/${group.id}`, display: 'Traders', type: 'direct' }]);
    expect(aliceNow.body.meta.version).toBe('W/"2"');
    expect((await scim.get(`/Users/${bob.id}`)).body.meta.version).toBe('W/"1"');

    const res = await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: bob.id }] }, { op: 'remove', path: `members[value eq "${alice.id}"]` }));
    expect(res.status).toBe(204);
    expect(res.headers.get('etag')).toBe('W/"2"');
    const [a, b] = [(await scim.get(`/Users/${alice.id}`)).body, (await scim.get(`/Users/${bob.id}`)).body];
    expect(a).not.toHaveProperty('groups');
    expect(a.meta.version).toBe('W/"3"');
    expect(b.groups.map((g: any) => g.value)).toEqual([group.id]);
    // A user's groups can be filtered on, but not written.
    const members = await scim.get(`/Users?filter=${encodeURIComponent(`groups[value eq "${group.id}"]`)}`);
    expect(members.body.Resources.map((u: any) => u.id)).toEqual([bob.id]);
    const write = await scim.patch(`/Users/${bob.id}`, patchOp({ op: 'add', path: 'groups', value: [{ value: randomUUID() }] }));
    expect(write.body.scimType).toBe('mutability');
  });

  test('nested groups, and no group inside itself', async () => {
    const inner = await scim.createGroup({ displayName: 'Inner', members: [{ value: alice.id }] });
    const outer = await scim.createGroup({ displayName: 'Outer', members: [{ value: inner.id, type: 'Group' }, { value: bob.id }] });
    expect(outer.members).toEqual([
      expect.objectContaining({ value: inner.id, type: 'Group', display: 'Inner', $ref: `${herald.issuer}/scim/v2/Groups/${inner.id}` }),
      expect.objectContaining({ value: bob.id, type: 'User' }),
    ]);
    const self = await scim.patch(`/Groups/${inner.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: inner.id }] }));
    expect(self.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const wrongType = await scim.patch(`/Groups/${inner.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: bob.id, type: 'Group' }] }));
    expect(wrongType.body.scimType).toBe('invalidValue');
    // Deleting the inner group removes it from the outer one.
    expect((await scim.delete(`/Groups/${inner.id}`)).status).toBe(204);
    const after = await scim.get(`/Groups/${outer.id}`);
    expect(after.body.members.map((m: any) => m.value)).toEqual([bob.id]);
    expect(after.body.meta.version).toBe('W/"2"');
  });

  test('deleting a user removes it from its groups', async () => {
    const group = await scim.createGroup({ displayName: 'Traders', members: [{ value: alice.id }, { value: bob.id }] });
    expect((await scim.delete(`/Users/${alice.id}`)).status).toBe(204);
    const after = await scim.get(`/Groups/${group.id}`);
    expect(after.body.members.map((m: any) => m.value)).toEqual([bob.id]);
    expect(after.body.meta.version).toBe('W/"2"');
  });

  test('PUT replaces displayName and members; displayName stays unique regardless of case', async () => {
    const group = await scim.createGroup({ displayName: 'Traders', members: [{ value: alice.id }] });
    await scim.createGroup({ displayName: 'Sales' });
    const put = await scim.put(`/Groups/${group.id}`, { schemas: [GROUP], displayName: 'Trading', members: [{ value: bob.id }] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ displayName: 'Trading', members: [{ value: bob.id }] });
    expect(put.body).not.toHaveProperty('externalId');
    for (const res of [
      await scim.put(`/Groups/${group.id}`, { schemas: [GROUP], displayName: 'SALES' }),
      await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'sales' })),
      await scim.post('/Groups', { schemas: [GROUP], displayName: 'sAlEs' }),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    }
    const missing = await scim.post('/Groups', { schemas: [GROUP], members: [] });
    expect(missing.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const removeName = await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'remove', path: 'displayName' }));
    expect(removeName.body.scimType).toBe('mutability');
  });

  test('If-Match on group writes', async () => {
    const group = await scim.createGroup({ displayName: 'Traders' });
    expect((await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'X' }), { 'If-Match': 'W/"5"' })).status).toBe(412);
    expect((await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'X' }), { 'If-Match': 'W/"1"' })).status).toBe(204);
    expect((await scim.delete(`/Groups/${group.id}`, { 'If-Match': 'W/"1"' })).status).toBe(412);
    expect((await scim.get(`/Groups/${group.id}`, { 'If-None-Match': 'W/"2"' })).status).toBe(304);
    expect((await scim.delete(`/Groups/${group.id}`, { 'If-Match': 'W/"2"' })).status).toBe(204);
    expect((await scim.get(`/Groups/${group.id}`)).status).toBe(404);
  });

  test('changes are audited as group.* with the acting client', async () => {
    const group = await scim.createGroup({ displayName: 'Audited', members: [{ value: alice.id }] });
    await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: bob.id }] }));
    await scim.delete(`/Groups/${group.id}`);
    const events = (await herald.audit.find({ clientId: 'provisioner' })).filter((e) => e.type.startsWith('group.') && (e.data as any)?.group === group.id);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['group.created', { via: 'scim', group: group.id, displayName: 'Audited', added: [alice.id] }],
      ['group.updated', { via: 'scim', group: group.id, changed: ['members'], added: [bob.id], removed: [] }],
      ['group.deleted', { via: 'scim', group: group.id, displayName: 'Audited', members: [alice.id, bob.id] }],
    ]);
  });
});
