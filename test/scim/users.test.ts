/**
 * SCIM Users over HTTP: access, the seed payload round trip, extension types, filters, sorting,
 * paging, projection, PATCH, ETags and the error format with the right scimType.
 */
import type { TestHerald } from '../support/herald.js';
import { CORE, ENTERPRISE, ERROR, HERALD, LIST, PATCH_OP, SEED_USER, ScimClient, patchOp, startScimHerald, tokenFor } from './scim-support.js';

const EXTENSION = {
  attributes: {
    userId: 'integer',
    locations: 'string[]',
    roles: 'string[]',
    employeeCode: { type: 'string', mutability: 'immutable' as const },
    region: { type: 'string', canonicalValues: ['EMEA', 'AMER', 'APAC'] },
    hiredAt: 'dateTime',
    badge: { type: 'string', caseExact: true },
  },
};

describe('SCIM Users', () => {
  let herald: TestHerald;
  let scim: ScimClient;

  beforeAll(async () => {
    herald = await startScimHerald({ scim: { maxResults: 10, extension: EXTENSION } });
    scim = await ScimClient.connect(herald);
  });
  afterAll(() => herald?.stop());

  const clean = async () => {
    for (const table of ['user_group_members', 'user_groups', 'user_links', 'users']) await herald.dataSource.query(`DELETE FROM ${table}`);
  };

  describe('access', () => {
    test('no token, a token for another API, or a missing scope: SCIM errors with WWW-Authenticate', async () => {
      const anonymous = await new ScimClient(herald, undefined).get('/Users');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({ schemas: [ERROR], status: '401', detail: 'a Bearer access token is required' });
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(anonymous.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');

      const otherApi = await new ScimClient(herald, await tokenFor(herald, 'trader-svc', 'trades')).get('/Users');
      expect(otherApi.status).toBe(401);
      expect(otherApi.body.detail).toBe('the access token is not for this API');

      const tampered = await new ScimClient(herald, `${await tokenFor(herald, 'provisioner', 'scim:read')}x`).get('/Users');
      expect(tampered.status).toBe(401);

      const reader = await ScimClient.connect(herald, 'auditor', 'scim:read');
      expect((await reader.get('/Users')).status).toBe(200);
      const readerWrite = await reader.post('/Users', { schemas: [CORE], userName: 'nope@example.com' });
      expect(readerWrite.status).toBe(403);
      expect(readerWrite.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
      expect(readerWrite.body).toMatchObject({ schemas: [ERROR], status: '403' });

      const writer = await ScimClient.connect(herald, 'writer', 'scim:write');
      expect((await writer.get('/Users')).status).toBe(403);
      expect((await writer.post('/Users', { schemas: [CORE], userName: 'write-only@example.com' })).status).toBe(201);
      // Discovery needs a token too.
      expect((await new ScimClient(herald, undefined).get('/Schemas')).status).toBe(401);
    });

    test('every change is audited with the acting client', async () => {
      const created = await scim.createUser({ userName: 'audited@example.com' });
      await scim.patch(`/Users/${created.id}`, patchOp({ op: 'replace', path: 'title', value: 'Desk head' }));
      await scim.delete(`/Users/${created.id}`);
      const types = ['user.created', 'user.updated', 'user.deleted'];
      for (const type of types) {
        const [event] = await herald.audit.find({ type, userId: created.id });
        expect(event).toMatchObject({ type, clientId: 'provisioner', userId: created.id, outcome: 'success' });
        expect(event!.data).toMatchObject({ via: 'scim' });
      }
      const [updated] = await herald.audit.find({ type: 'user.updated', userId: created.id });
      expect(updated!.data).toEqual({ via: 'scim', changed: ['core'] });
      // Attribute values (personal data) are not copied into the audit trail.
      expect(JSON.stringify(updated)).not.toContain('Desk head');
    });
  });

  describe('the seed account (core + userId + locations + roles)', () => {
    test('round-trips through POST, GET and PATCH', async () => {
      await clean();
      const created = await scim.post('/Users', SEED_USER);
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${herald.issuer}/scim/v2/Users/${created.body.id}`);
      const { id } = created.body;
      const expected = {
        schemas: [CORE, HERALD],
        id,
        externalId: 'corp-2998',
        userName: 'john.doe@example.com',
        name: { givenName: 'John', familyName: 'Doe', formatted: 'John Doe' },
        displayName: 'John Doe',
        emails: [{ value: 'john.doe@example.com', type: 'work', primary: true }],
        active: true,
        [HERALD]: { userId: 2998, locations: ['NY'], roles: ['trader'] },
        meta: { resourceType: 'User', location: `${herald.issuer}/scim/v2/Users/${id}`, version: 'W/"1"', created: expect.any(String), lastModified: expect.any(String) },
      };
      expect(created.body).toEqual(expected);
      const fetched = await scim.get(`/Users/${id}`);
      expect(fetched.body).toEqual(expected);
      expect(fetched.headers.get('etag')).toBe('W/"1"');

      const patched = await scim.patch(
        `/Users/${id}`,
        patchOp(
          { op: 'add', path: `${HERALD}:locations`, value: ['LDN'] },
          { op: 'replace', path: `${HERALD}:userId`, value: 3001 },
          { op: 'remove', path: `${HERALD}:roles[value eq "trader"]` },
          { op: 'add', path: `${HERALD}:roles`, value: 'risk' },
        ),
      );
      expect(patched.status).toBe(200);
      expect(patched.body[HERALD]).toEqual({ userId: 3001, locations: ['NY', 'LDN'], roles: ['risk'] });
      expect(patched.body.meta.version).toBe('W/"2"');
      expect((await scim.get(`/Users/${id}`)).body[HERALD]).toEqual({ userId: 3001, locations: ['NY', 'LDN'], roles: ['risk'] });
      // The claims layer reads the same account.
      const row = await herald.dataSource.query(`SELECT custom, user_name, email, email_verified, managed_by FROM users WHERE id = '${id}'`);
      expect(JSON.parse(row[0].custom)).toEqual({ userId: 3001, locations: ['NY', 'LDN'], roles: ['risk'] });
      expect(row[0]).toMatchObject({ user_name: 'john.doe@example.com', email: 'john.doe@example.com', managed_by: 'scim' });
      expect([true, 1]).toContain(row[0].email_verified);
    });

    test('extension attributes are typed on write', async () => {
      const bad = async (value: Record<string, unknown>) => {
        const res = await scim.post('/Users', { schemas: [CORE, HERALD], userName: `typed-${Math.random()}@example.com`, [HERALD]: value });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidValue' });
        return res.body.detail as string;
      };
      expect(await bad({ userId: 'abc' })).toContain('userId');
      expect(await bad({ userId: 1.5 })).toContain('integer');
      expect(await bad({ locations: [{ city: 'NY' }] })).toContain('locations');
      expect(await bad({ region: 'MARS' })).toContain('EMEA');
      expect(await bad({ hiredAt: 'yesterday' })).toContain('date-time');
      expect(await bad({ locations: [['NY']] })).toContain('nested');
      const ok = await scim.post('/Users', {
        schemas: [CORE, HERALD],
        userName: 'typed-ok@example.com',
        [HERALD]: { userId: '17', locations: 'Oslo', region: 'emea', hiredAt: '2024-02-01T09:00:00Z' },
      });
      expect(ok.status).toBe(201);
      expect(ok.body[HERALD]).toEqual({ userId: 17, locations: ['Oslo'], region: 'emea', hiredAt: '2024-02-01T09:00:00Z' });
      // The same validation applies to PATCH.
      const patch = await scim.patch(`/Users/${ok.body.id}`, patchOp({ op: 'replace', path: `${HERALD}:userId`, value: 'seventeen' }));
      expect(patch.status).toBe(400);
      expect(patch.body.scimType).toBe('invalidValue');
      // The legacy spelling of the extension URN is accepted as an alias.
      const alias = await scim.post('/Users', { schemas: [CORE], userName: 'alias@example.com', 'urn:herald:params:scim:schemas:extension:herald:2.0:User': { userId: 5 } });
      expect(alias.body[HERALD]).toEqual({ userId: 5 });
    });
  });

  describe('filters', () => {
    let ids: Record<string, string>;
    beforeAll(async () => {
      await clean();
      const make = async (key: string, resource: Record<string, unknown>) => [key, (await scim.createUser(resource)).id] as const;
      ids = Object.fromEntries([
        await make('bjensen', {
          userName: 'bjensen@example.com',
          externalId: 'EXT-1',
          title: 'Tour Guide',
          userType: 'Employee',
          name: { givenName: 'Barbara', familyName: 'Jensen' },
          emails: [
            { value: 'bjensen@example.com', type: 'work', primary: true },
            { value: 'babs@jensen.org', type: 'home' },
          ],
          [ENTERPRISE]: { department: 'Tours', employeeNumber: '701984' },
          [HERALD]: { userId: 100, locations: ['NY', 'LDN'], badge: 'AbC' },
        }),
        await make('jsmith', {
          userName: 'jsmith@example.com',
          title: 'Trader',
          userType: 'Contractor',
          active: false,
          name: { givenName: 'John', familyName: 'Smith' },
          emails: [{ value: 'john@smith.org', type: 'work' }],
          [HERALD]: { userId: 250, locations: ['PAR'] },
        }),
        await make('mdoe', { userName: 'mdoe@example.com', userType: 'Employee', name: { familyName: "O'Doe" }, [HERALD]: { userId: 7 } }),
      ]);
    });

    const query = async (filter: string, extra = '') => {
      const res = await scim.get(`/Users?filter=${encodeURIComponent(filter)}${extra}`);
      if (res.status !== 200) throw new Error(`${filter}: ${res.status} ${JSON.stringify(res.body)}`);
      expect(res.body.schemas).toEqual([LIST]);
      return res.body.Resources.map((r: any) => Object.entries(ids).find(([, id]) => id === r.id)?.[0]).sort();
    };

    test.each([
      ['userName eq "BJENSEN@example.com"', ['bjensen']],
      ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bjensen@example.com"', ['bjensen']],
      ['userName ne "bjensen@example.com"', ['jsmith', 'mdoe']],
      ['title co "guide"', ['bjensen']],
      ['userName sw "J"', ['jsmith']],
      ['userName ew "@EXAMPLE.com"', ['bjensen', 'jsmith', 'mdoe']],
      ['title pr', ['bjensen', 'jsmith']],
      ['not (title pr)', ['mdoe']],
      ['externalId eq "EXT-1"', ['bjensen']],
      ['externalId eq "ext-1"', []],
      [`${HERALD}:userId gt 100`, ['jsmith']],
      [`${HERALD}:userId ge 100`, ['bjensen', 'jsmith']],
      [`${HERALD}:userId lt 100`, ['mdoe']],
      [`${HERALD}:userId le "100"`, ['bjensen', 'mdoe']],
      [`${HERALD}:locations eq "ldn"`, ['bjensen']],
      [`${HERALD}:locations[value eq "PAR" or value eq "LDN"]`, ['bjensen', 'jsmith']],
      [`${HERALD}:badge eq "abc"`, []],
      [`${HERALD}:badge eq "AbC"`, ['bjensen']],
      ['active eq false', ['jsmith']],
      ['active eq "True"', ['bjensen', 'mdoe']],
      ['title pr and userType eq "Employee"', ['bjensen']],
      ['title pr or userType eq "Employee"', ['bjensen', 'jsmith', 'mdoe']],
      ['userType eq "Employee" and (emails co "example.com" or emails.value co "smith.org")', ['bjensen']],
      ['userType eq "Contractor" or userType eq "Employee" and title pr', ['bjensen', 'jsmith']],
      ['(userType eq "Contractor" or userType eq "Employee") and title pr', ['bjensen', 'jsmith']],
      ['emails[type eq "work" and value co "@example.com"]', ['bjensen']],
      ['emails[type eq "home" and value co "example.com"]', []],
      ['emails[type eq "work"].value eq "babs@jensen.org"', []],
      ['emails[type eq "home"].value eq "babs@jensen.org"', ['bjensen']],
      ['name.familyName eq "o\'doe"', ['mdoe']],
      ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tours"', ['bjensen']],
      ['employeeNumber eq "701984"', ['bjensen']],
      ['meta.created gt "2000-01-01T00:00:00Z"', ['bjensen', 'jsmith', 'mdoe']],
      ['meta.lastModified lt "2000-01-01T00:00:00+02:00"', []],
      ['not (userName eq "bjensen@example.com") and not (active eq false)', ['mdoe']],
      ['nickName eq null', ['bjensen', 'jsmith', 'mdoe']],
      ['userName eq "a" or userName eq "jsmith@example.com" or userName eq "MDOE@example.com"', ['jsmith', 'mdoe']],
    ])('%s', async (filter, expected) => {
      expect(await query(filter)).toEqual(expected);
    });

    test.each([
      ['userName eq', 'could not be parsed'],
      ['userName xx "a"', 'could not be parsed'],
      ['(userName eq "a"', 'could not be parsed'],
      ['nosuch eq "a"', 'unknown attribute "nosuch"'],
      ['emails[nosuch eq "a"]', 'unknown sub-attribute'],
      ['active gt false', 'boolean'],
      [`${HERALD}:userId co "1"`, 'substring'],
      [`${HERALD}:userId eq "abc"`, 'expected a number'],
      ['meta.created gt "yesterday"', 'date-time'],
      ['password eq "x"', 'cannot be filtered'],
      ['name eq "x"', 'complex'],
      ['emails[type eq "work"][value eq "x"]', 'could not be parsed'],
    ])('invalid filter %s → 400 invalidFilter', async (filter, detail) => {
      const res = await scim.get(`/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
      expect(res.body.detail).toContain(detail);
    });

    test('an over-long filter is refused before parsing', async () => {
      const long = Array.from({ length: 150 }, (_, i) => `userName eq "user${i}@example.com"`).join(' or ');
      const res = await scim.get(`/Users?filter=${encodeURIComponent(long)}`);
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('invalidFilter');
    });

    // scim2-parse-filter's tokenizer backtracks exponentially on newlines in an unterminated
    // string: without the guard each of these requests would block the event loop for days.
    test('control characters and unterminated strings are refused before parsing (GET, .search, PATCH paths)', async () => {
      const reader = await ScimClient.connect(herald, 'auditor', 'scim:read');
      const hostile = `userName eq "${'\n'.repeat(45)}`;
      const get = await reader.get(`/Users?filter=${encodeURIComponent(hostile)}`);
      expect(get.status).toBe(400);
      expect(get.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
      expect(get.body.detail).toContain('control character');
      const search = await reader.post('/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: `title pr and ${hostile}` });
      expect(search.status).toBe(400);
      expect(search.body.scimType).toBe('invalidFilter');
      const groups = await reader.get(`/Groups?filter=${encodeURIComponent(`displayName eq "${'\n'.repeat(45)}`)}`);
      expect(groups.body.scimType).toBe('invalidFilter');
      // A PATCH path whose brackets balance for the path splitter (`\` escapes the newline) but whose string never closes for the parser.
      const path = await scim.patch(`/Users/${ids.bjensen}`, patchOp({ op: 'replace', path: `emails[value eq "${'\n'.repeat(45)}\\\n"].type`, value: 'x' }));
      expect(path.status).toBe(400);
      expect(path.body.scimType).toBe('invalidFilter');
      expect(path.body.detail).toContain('control character');
      for (const filter of ['userName eq "bjensen@example.com', 'userName eq "a\tb"', 'userName eq "bjensen@example.com"\nor title pr']) {
        const res = await reader.get(`/Users?filter=${encodeURIComponent(filter)}`);
        expect(res.status).toBe(400);
        expect(res.body.scimType).toBe('invalidFilter');
      }
      // The server is still answering ordinary filters.
      expect((await reader.get(`/Users?filter=${encodeURIComponent('userName eq "bjensen@example.com"')}`)).body.totalResults).toBe(1);
    });

    test('POST /Users/.search takes the same query in a body', async () => {
      const res = await scim.post('/Users/.search', {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
        filter: 'userType eq "Employee"',
        attributes: ['userName'],
        sortBy: 'userName',
        sortOrder: 'descending',
        startIndex: 1,
        count: 5,
      });
      expect(res.status).toBe(200);
      expect(res.body.Resources).toEqual([
        { schemas: [CORE], id: ids.mdoe, userName: 'mdoe@example.com' },
        { schemas: [CORE], id: ids.bjensen, userName: 'bjensen@example.com' },
      ]);
      expect((await scim.post('/Users/.search', { filter: 'x' })).body.scimType).toBe('invalidSyntax');
    });

    test('sorting: by string, by extension integer, lists by their primary value, missing values last', async () => {
      const order = async (params: string) => (await scim.get(`/Users?${params}`)).body.Resources.map((r: any) => r.userName.split('@')[0]);
      expect(await order('sortBy=userName')).toEqual(['bjensen', 'jsmith', 'mdoe']);
      expect(await order('sortBy=userName&sortOrder=descending')).toEqual(['mdoe', 'jsmith', 'bjensen']);
      expect(await order(`sortBy=${HERALD}:userId`)).toEqual(['mdoe', 'bjensen', 'jsmith']);
      expect(await order('sortBy=title')).toEqual(['bjensen', 'jsmith', 'mdoe']);
      expect(await order('sortBy=title&sortOrder=DESCENDING')).toEqual(['mdoe', 'jsmith', 'bjensen']);
      expect(await order('sortBy=emails&filter=emails pr')).toEqual(['bjensen', 'jsmith']);
      expect(await order('sortBy=name.familyName')).toEqual(['bjensen', 'mdoe', 'jsmith']);
      const bad = await scim.get('/Users?sortBy=userName&sortOrder=sideways');
      expect(bad.body.scimType).toBe('invalidValue');
      expect((await scim.get('/Users?sortBy=nosuch')).body.scimType).toBe('invalidValue');
    });

    test('projection: attributes and excludedAttributes, on lists and single resources', async () => {
      const only = await scim.get(`/Users/${ids.bjensen}?attributes=userName,name.givenName,${HERALD}:userId`);
      expect(only.body).toEqual({ schemas: [CORE, HERALD], id: ids.bjensen, userName: 'bjensen@example.com', name: { givenName: 'Barbara' }, [HERALD]: { userId: 100 } });
      const wholeExtension = await scim.get(`/Users/${ids.bjensen}?attributes=${ENTERPRISE}`);
      expect(wholeExtension.body).toEqual({ schemas: [CORE, ENTERPRISE], id: ids.bjensen, [ENTERPRISE]: { department: 'Tours', employeeNumber: '701984' } });
      const excluded = await scim.get(`/Users/${ids.bjensen}?excludedAttributes=emails,meta,${HERALD},name.familyName`);
      expect(excluded.body).not.toHaveProperty('emails');
      expect(excluded.body).not.toHaveProperty('meta');
      expect(excluded.body).not.toHaveProperty(HERALD);
      expect(excluded.body.name).toEqual({ givenName: 'Barbara' });
      expect(excluded.body.schemas).toEqual([CORE, ENTERPRISE]);
      // `id` is returned always, even when excluded.
      expect((await scim.get(`/Users/${ids.bjensen}?excludedAttributes=id,userName`)).body.id).toBe(ids.bjensen);
      const listed = await scim.get(`/Users?filter=${encodeURIComponent('userName eq "jsmith@example.com"')}&attributes=emails.value`);
      expect(listed.body.Resources).toEqual([{ schemas: [CORE], id: ids.jsmith, emails: [{ value: 'john@smith.org' }] }]);
    });
  });

  describe('paging', () => {
    beforeAll(async () => {
      await clean();
      for (let i = 0; i < 13; i++) await scim.createUser({ userName: `page-${String(i).padStart(2, '0')}@example.com` });
    });

    const page = async (params: string) => {
      const res = await scim.get(`/Users?${params}`);
      expect(res.status).toBe(200);
      return res.body;
    };

    test('startIndex and count, in a stable order; count is capped at maxResults', async () => {
      const first = await page('startIndex=1&count=5');
      expect(first).toMatchObject({ totalResults: 13, startIndex: 1, itemsPerPage: 5 });
      expect(first.Resources.map((r: any) => r.userName)).toEqual([0, 1, 2, 3, 4].map((i) => `page-0${i}@example.com`));
      const third = await page('startIndex=11&count=5');
      expect(third).toMatchObject({ totalResults: 13, startIndex: 11, itemsPerPage: 3 });
      const capped = await page('count=1000');
      expect(capped.itemsPerPage).toBe(10);
      const byDefault = await page('');
      expect(byDefault.itemsPerPage).toBe(10);
      const filtered = await page(`filter=${encodeURIComponent('userName sw "page-1"')}&startIndex=2&count=2`);
      expect(filtered).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 2 });
      expect(filtered.Resources.map((r: any) => r.userName)).toEqual(['page-11@example.com', 'page-12@example.com']);
    });

    test('count=0 returns only the total; out-of-range values are clamped; non-integers are refused', async () => {
      expect(await page('count=0')).toEqual({ schemas: [LIST], totalResults: 13, startIndex: 1, itemsPerPage: 0, Resources: [] });
      expect(await page('count=-3')).toMatchObject({ itemsPerPage: 0 });
      expect(await page('startIndex=0&count=1')).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
      expect(await page('startIndex=99')).toMatchObject({ totalResults: 13, startIndex: 99, itemsPerPage: 0, Resources: [] });
      for (const params of ['count=ten', 'startIndex=1.5', 'count=1&count=2']) {
        const res = await scim.get(`/Users?${params}`);
        expect(res.status).toBe(400);
        expect(res.body.scimType).toBe('invalidValue');
      }
    });
  });

  describe('PATCH', () => {
    let id: string;
    beforeEach(async () => {
      await clean();
      id = (
        await scim.createUser({
          userName: 'patch@example.com',
          name: { givenName: 'Pat', familyName: 'Ch' },
          emails: [
            { value: 'patch@example.com', type: 'work', primary: true },
            { value: 'patch@home.example', type: 'home' },
          ],
          [HERALD]: { locations: ['NY'], employeeCode: 'E-1' },
        })
      ).id;
    });

    const apply = (...operations: Array<Record<string, unknown>>) => scim.patch(`/Users/${id}`, patchOp(...operations));

    test('add, replace and remove with attribute paths, sub-attributes and value filters', async () => {
      const res = await apply(
        { op: 'Add', path: 'nickName', value: 'Patty' },
        { op: 'Replace', path: 'name.givenName', value: 'Patricia' },
        { op: 'add', path: 'emails', value: [{ value: 'patch@other.example', type: 'other' }] },
        { op: 'replace', path: 'emails[type eq "home"].value', value: 'new@home.example' },
        { op: 'remove', path: 'emails[type eq "other"]' },
        { op: 'remove', path: 'name.familyName' },
        { op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+47 555 0100' },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        nickName: 'Patty',
        name: { givenName: 'Patricia' },
        emails: [
          { value: 'patch@example.com', type: 'work', primary: true },
          { value: 'new@home.example', type: 'home' },
        ],
        phoneNumbers: [{ type: 'mobile', value: '+47 555 0100' }],
      });
      expect(res.body.name).not.toHaveProperty('familyName');
    });

    test('a new primary value demotes the old one; two primaries in one value are refused', async () => {
      const res = await apply({ op: 'replace', path: 'emails[type eq "home"].primary', value: 'True' });
      expect(res.body.emails).toEqual([
        { value: 'patch@example.com', type: 'work', primary: false },
        { value: 'patch@home.example', type: 'home', primary: true },
      ]);
      // The account's email (used by linking rules) follows the primary email.
      const [row] = await herald.dataSource.query(`SELECT email FROM users WHERE id = '${id}'`);
      expect(row.email).toBe('patch@home.example');
      const two = await apply({ op: 'replace', path: 'emails', value: [{ value: 'a@x.example', primary: true }, { value: 'b@x.example', primary: true }] });
      expect(two.status).toBe(400);
      expect(two.body.scimType).toBe('invalidValue');
    });

    test('values for lists: Entra-style single values are wrapped, duplicates are no-ops without a new version', async () => {
      const wrapped = await apply({ op: 'add', path: `${HERALD}:locations`, value: 'LDN' });
      expect(wrapped.body[HERALD].locations).toEqual(['NY', 'LDN']);
      const version = wrapped.body.meta.version;
      const lastModified = wrapped.body.meta.lastModified;
      const again = await apply({ op: 'add', path: `${HERALD}:locations`, value: ['ldn'] });
      expect(again.body.meta).toMatchObject({ version, lastModified });
      const removed = await apply({ op: 'remove', path: `${HERALD}:locations`, value: ['ny'] });
      expect(removed.body[HERALD].locations).toEqual(['LDN']);
    });

    test('no-path add and replace: keys are paths, extension objects merge', async () => {
      const res = await apply(
        { op: 'replace', value: { 'name.familyName': 'Changed', [`${HERALD}:userId`]: 9, title: 'Lead', unknownThing: 1 } },
        { op: 'add', value: { [ENTERPRISE]: { department: 'Risk' }, [HERALD]: { locations: ['SGP'] } } },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ title: 'Lead', name: { givenName: 'Pat', familyName: 'Changed' }, [ENTERPRISE]: { department: 'Risk' } });
      expect(res.body[HERALD]).toEqual({ userId: 9, locations: ['NY', 'SGP'], employeeCode: 'E-1' });
      expect(res.body.schemas).toEqual([CORE, ENTERPRISE, HERALD]);
    });

    test('operations are atomic: a failing operation leaves the resource untouched', async () => {
      const before = await scim.get(`/Users/${id}`);
      const res = await apply({ op: 'replace', path: 'title', value: 'T' }, { op: 'remove', path: 'userName' });
      expect(res.status).toBe(400);
      expect(res.body.scimType).toBe('mutability');
      expect((await scim.get(`/Users/${id}`)).body).toEqual(before.body);
    });

    test.each([
      ['remove of a required attribute', [{ op: 'remove', path: 'userName' }], 'mutability'],
      ['replace of a read-only attribute', [{ op: 'replace', path: 'meta.created', value: '2020-01-01T00:00:00Z' }], 'mutability'],
      ['a change of the read-only links', [{ op: 'add', path: `${HERALD}:links`, value: [{ connector: 'x', subject: 'y' }] }], 'mutability'],
      ['a change of an immutable attribute', [{ op: 'replace', path: `${HERALD}:employeeCode`, value: 'E-2' }], 'mutability'],
      ['a path with too many parts', [{ op: 'replace', path: 'name.givenName.x', value: 'x' }], 'invalidPath'],
      ['an unknown attribute', [{ op: 'replace', path: 'shoeSize', value: 44 }], 'invalidPath'],
      ['a sub-attribute after a filter that does not exist', [{ op: 'replace', path: 'emails[type eq "work"].nosuch', value: 'x' }], 'invalidPath'],
      ['a broken value filter', [{ op: 'replace', path: 'emails[type eq].value', value: 'x' }], 'invalidFilter'],
      ['a value filter that cannot create an element', [{ op: 'replace', path: 'emails[value co "zzz"].type', value: 'x' }], 'noTarget'],
      ['remove without path', [{ op: 'remove' }], 'noTarget'],
      ['add without value', [{ op: 'add', path: 'title' }], 'invalidValue'],
      ['a wrongly typed value', [{ op: 'replace', path: 'active', value: 'maybe' }], 'invalidValue'],
      ['an unknown op', [{ op: 'move', path: 'title', value: 'x' }], 'invalidSyntax'],
    ])('%s → 400 %s', async (_name, operations, scimType) => {
      const res = await scim.patch(`/Users/${id}`, patchOp(...(operations as Array<Record<string, unknown>>)));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType });
    });

    test('an immutable attribute may be set while it has no value, and kept on PUT', async () => {
      const other = await scim.createUser({ userName: 'immutable@example.com' });
      const set = await scim.patch(`/Users/${other.id}`, patchOp({ op: 'add', path: `${HERALD}:employeeCode`, value: 'E-9' }));
      expect(set.body[HERALD].employeeCode).toBe('E-9');
      const same = await scim.put(`/Users/${other.id}`, { schemas: [CORE], userName: 'immutable@example.com', [HERALD]: { employeeCode: 'E-9' } });
      expect(same.status).toBe(200);
      const changed = await scim.put(`/Users/${other.id}`, { schemas: [CORE], userName: 'immutable@example.com', [HERALD]: { employeeCode: 'E-10' } });
      expect(changed.status).toBe(400);
      expect(changed.body.scimType).toBe('mutability');
    });

    test('an assigned immutable attribute cannot be cleared by removing its whole extension (and then re-added changed)', async () => {
      const before = await scim.get(`/Users/${id}`);
      const bypass = await apply({ op: 'remove', path: HERALD }, { op: 'add', path: `${HERALD}:employeeCode`, value: 'E-999' }, { op: 'add', path: `${HERALD}:locations`, value: ['NY'] });
      expect(bypass.status).toBe(400);
      expect(bypass.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'mutability' });
      expect(bypass.body.detail).toContain('employeeCode');
      expect((await apply({ op: 'remove', path: HERALD })).body.scimType).toBe('mutability');
      expect((await scim.get(`/Users/${id}`)).body).toEqual(before.body);
      // An extension without an immutable value can still be removed as a whole.
      const other = await scim.createUser({ userName: 'no-code@example.com', [HERALD]: { locations: ['NY'], userId: 3 } });
      const removed = await scim.patch(`/Users/${other.id}`, patchOp({ op: 'remove', path: HERALD }));
      expect(removed.status).toBe(200);
      expect(removed.body[HERALD]).toBeUndefined();
    });

    test('envelope errors: not a PatchOp, no Operations, a body that is not JSON', async () => {
      expect((await scim.patch(`/Users/${id}`, { Operations: [{ op: 'add', path: 'title', value: 'x' }] })).body.scimType).toBe('invalidSyntax');
      expect((await scim.patch(`/Users/${id}`, { schemas: [PATCH_OP], Operations: [] })).body.scimType).toBe('invalidSyntax');
      const broken = await scim.request('PATCH', `/Users/${id}`, '{"schemas": [', {});
      expect(broken.status).toBe(400);
      expect(broken.body).toEqual({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax', detail: 'the request body is not valid JSON' });
      expect(broken.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    });

    test('PATCH answers with the projection the client asked for', async () => {
      const res = await scim.patch(`/Users/${id}?attributes=title`, patchOp({ op: 'add', path: 'title', value: 'Boss' }));
      expect(res.body).toEqual({ schemas: [CORE], id, title: 'Boss' });
    });
  });

  describe('PUT, DELETE, uniqueness and ETags', () => {
    test('PUT replaces every writable attribute and ignores read-only ones', async () => {
      await clean();
      const user = await scim.createUser({ userName: 'put@example.com', title: 'Before', nickName: 'P', [HERALD]: { userId: 1 } });
      const res = await scim.put(`/Users/${user.id}`, {
        schemas: [CORE],
        id: 'not-the-id',
        userName: 'put@example.com',
        title: 'After',
        groups: [{ value: 'x' }],
        meta: { version: 'W/"99"' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, userName: 'put@example.com', title: 'After', active: true });
      expect(res.body).not.toHaveProperty('nickName');
      expect(res.body).not.toHaveProperty('groups');
      expect(res.body).not.toHaveProperty(HERALD);
      expect(res.body.meta.version).toBe('W/"2"');
      const missing = await scim.put(`/Users/${user.id}`, { schemas: [CORE], title: 'no userName' });
      expect(missing.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
      const noSchemas = await scim.put(`/Users/${user.id}`, { userName: 'put@example.com' });
      expect(noSchemas.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      expect((await scim.put('/Users/00000000-0000-0000-0000-000000000000', { schemas: [CORE], userName: 'ghost@example.com' })).status).toBe(404);
    });

    test('userName is unique regardless of case, on create, PUT and PATCH', async () => {
      await clean();
      await scim.createUser({ userName: 'Unique@Example.com' });
      const other = await scim.createUser({ userName: 'other@example.com' });
      for (const res of [
        await scim.post('/Users', { schemas: [CORE], userName: 'UNIQUE@example.COM' }),
        await scim.put(`/Users/${other.id}`, { schemas: [CORE], userName: 'unique@example.com' }),
        await scim.patch(`/Users/${other.id}`, patchOp({ op: 'replace', path: 'userName', value: 'uNIQUE@example.com' })),
      ]) {
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
      }
      // A user may change the case of its own userName.
      const own = await scim.patch(`/Users/${other.id}`, patchOp({ op: 'replace', path: 'userName', value: 'OTHER@example.com' }));
      expect(own.body.userName).toBe('OTHER@example.com');
    });

    test('If-Match (weak comparison, lists, *) and If-None-Match on reads and writes', async () => {
      await clean();
      const user = await scim.createUser({ userName: 'etag@example.com' });
      const path = `/Users/${user.id}`;
      expect((await scim.get(path, { 'If-None-Match': 'W/"1"' })).status).toBe(304);
      expect((await scim.get(path, { 'If-None-Match': '"1"' })).status).toBe(304);
      expect((await scim.get(path, { 'If-None-Match': '*' })).status).toBe(304);
      expect((await scim.get(path, { 'If-None-Match': 'W/"0", W/"2"' })).status).toBe(200);

      const stale = await scim.patch(path, patchOp({ op: 'add', path: 'title', value: 'x' }), { 'If-Match': 'W/"7"' });
      expect(stale).toMatchObject({ status: 412, body: { schemas: [ERROR], status: '412' } });
      const ok = await scim.patch(path, patchOp({ op: 'add', path: 'title', value: 'x' }), { 'If-Match': 'W/"3", W/"1"' });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('etag')).toBe('W/"2"');
      expect((await scim.patch(path, patchOp({ op: 'add', path: 'title', value: 'y' }), { 'If-Match': '*' })).headers.get('etag')).toBe('W/"3"');
      expect((await scim.patch(path, patchOp({ op: 'add', path: 'title', value: 'z' }), { 'If-None-Match': 'W/"3"' })).status).toBe(412);
      expect((await scim.delete(path, { 'If-Match': 'W/"2"' })).status).toBe(412);
      expect((await scim.delete(path, { 'If-Match': 'W/"3"' })).status).toBe(204);
    });

    test('lists carry meta.version per resource and no ETag header', async () => {
      await clean();
      await scim.createUser({ userName: 'list@example.com' });
      const res = await scim.get('/Users');
      expect(res.headers.get('etag')).toBeNull();
      expect(res.body.Resources[0].meta.version).toBe('W/"1"');
    });
  });

  describe('upstream links', () => {
    test('are visible as read-only links in the Herald extension and survive PUT', async () => {
      await clean();
      const user = await scim.createUser({ userName: 'linked@example.com' });
      const { UsersRepository } = await import('../../src/users/users.repository.js');
      await herald.app.get(UsersRepository).addLink(user.id, 'corp', 'corp-subject-1', { sub: 'corp-subject-1' });
      const fetched = await scim.get(`/Users/${user.id}`);
      expect(fetched.body[HERALD]).toEqual({ links: [{ connector: 'corp', subject: 'corp-subject-1', created: expect.any(String), lastLogin: expect.any(String) }] });
      expect(fetched.body.schemas).toEqual([CORE, HERALD]);
      const byLink = await scim.get(`/Users?filter=${encodeURIComponent(`${HERALD}:links[connector eq "corp" and subject eq "corp-subject-1"]`)}`);
      expect(byLink.body.totalResults).toBe(1);
      const put = await scim.put(`/Users/${user.id}`, { schemas: [CORE], userName: 'linked@example.com', [HERALD]: { links: [] } });
      expect(put.body[HERALD].links).toHaveLength(1);
      const patch = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'remove', path: `${HERALD}:links` }));
      expect(patch.body.scimType).toBe('mutability');
    });
  });

  describe('media types and switching SCIM off', () => {
    test('requests may be application/scim+json or application/json', async () => {
      await clean();
      const asJson = await scim.request('POST', '/Users', { schemas: [CORE], userName: 'json@example.com' }, { 'content-type': 'application/json' });
      expect(asJson.status).toBe(201);
      const asScim = await scim.request('POST', '/Users', { schemas: [CORE], userName: 'scim@example.com' }, { 'content-type': 'application/scim+json; charset=utf-8' });
      expect(asScim.status).toBe(201);
      expect(asScim.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
    });

    test('scim.enabled: false answers 404 everywhere under /scim/v2', async () => {
      const off = await startScimHerald({ scim: { enabled: false } });
      try {
        const client = await ScimClient.connect(off);
        for (const path of ['/Users', '/Groups', '/ServiceProviderConfig', '/Schemas']) {
          const res = await client.get(path);
          expect(res.status).toBe(404);
          expect(res.body).toMatchObject({ schemas: [ERROR], status: '404' });
        }
        expect((await client.post('/Users', { schemas: [CORE], userName: 'x@example.com' })).status).toBe(404);
      } finally {
        await off.stop();
      }
    });
  });

  describe('discovery', () => {
    test('/ServiceProviderConfig says what is implemented', async () => {
      const res = await scim.get('/ServiceProviderConfig');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: 10 },
        changePassword: { supported: false },
        sort: { supported: true },
        etag: { supported: true },
        authenticationSchemes: [{ type: 'oauthbearertoken', primary: true }],
        meta: { resourceType: 'ServiceProviderConfig', location: `${herald.issuer}/scim/v2/ServiceProviderConfig` },
      });
    });

    test('/ResourceTypes and /Schemas describe the configured Herald extension', async () => {
      const types = await scim.get('/ResourceTypes');
      expect(types.body.totalResults).toBe(2);
      expect(types.body.Resources[0]).toMatchObject({
        id: 'User',
        endpoint: '/Users',
        schema: CORE,
        schemaExtensions: [
          { schema: ENTERPRISE, required: false },
          { schema: HERALD, required: false },
        ],
      });
      expect((await scim.get('/ResourceTypes/Group')).body).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: 'urn:ietf:params:scim:schemas:core:2.0:Group' });
      const extension = await scim.get(`/Schemas/${HERALD}`);
      expect(extension.body.attributes.map((a: any) => [a.name, a.type, a.multiValued, a.mutability])).toEqual([
        ['userId', 'integer', false, 'readWrite'],
        ['locations', 'string', true, 'readWrite'],
        ['roles', 'string', true, 'readWrite'],
        ['employeeCode', 'string', false, 'immutable'],
        ['region', 'string', false, 'readWrite'],
        ['hiredAt', 'dateTime', false, 'readWrite'],
        ['badge', 'string', false, 'readWrite'],
        ['links', 'complex', true, 'readOnly'],
      ]);
      expect(extension.body.attributes.find((a: any) => a.name === 'region').canonicalValues).toEqual(['EMEA', 'AMER', 'APAC']);
      const core = await scim.get(`/Schemas/${CORE}`);
      expect(core.body.attributes.find((a: any) => a.name === 'userName')).toMatchObject({ required: true, caseExact: false, uniqueness: 'server' });
      expect((await scim.get('/Schemas/urn:nope')).status).toBe(404);
      expect((await scim.get('/ResourceTypes/Printer')).status).toBe(404);
    });

    test('filters on discovery endpoints are refused; bulk and /Me are not implemented', async () => {
      expect((await scim.get('/Schemas?filter=id%20pr')).body).toMatchObject({ status: '403', schemas: [ERROR] });
      expect((await scim.post('/Bulk', { schemas: [] })).status).toBe(501);
      expect((await scim.get('/Me')).status).toBe(501);
      expect((await scim.get('/Printers')).body).toMatchObject({ status: '404', schemas: [ERROR] });
    });
  });
});
