import { ScimError } from './scim.errors.js';
import { applyPatch, readPatchRequest } from './scim-patch.js';
import { ScimSchemas, ENTERPRISE_URN, HERALD_EXTENSION_URN, type ResourceType } from './scim-schema.js';
import { scimConfigSchema } from './scim.config.js';

const rt = new ScimSchemas(scimConfigSchema.parse({})).user;
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const patchOn = (type: ResourceType, doc: Record<string, unknown>, ...ops: Array<Record<string, unknown>>) =>
  applyPatch(type, doc, readPatchRequest({ schemas: [PATCH], Operations: ops }), { maxFilterLength: 4096 });
const patch = (doc: Record<string, unknown>, ...ops: Array<Record<string, unknown>>) => patchOn(rt, doc, ...ops);
const scimType = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as ScimError).scimType;
  }
  return 'no error';
};

describe('SCIM PATCH engine', () => {
  const user = { id: 'u1', userName: 'a', emails: [{ value: 'a@x', type: 'work', primary: true }], meta: { version: 'W/"1"' } };

  test('works on a copy: the input document is never modified', () => {
    const input = structuredClone(user);
    patch(input, { op: 'replace', path: 'emails[type eq "work"].value', value: 'b@x' });
    expect(input).toEqual(user);
  });

  test('filtered add on a missing element builds one element across operations', () => {
    const out = patch(user, { op: 'add', path: 'addresses[type eq "work"].locality', value: 'Oslo' }, { op: 'add', path: 'addresses[type eq "work"].region', value: 'Oslo' });
    expect(out.addresses).toEqual([{ type: 'work', locality: 'Oslo', region: 'Oslo' }]);
  });

  test('remove by value matches only the value sub-attribute (Entra member removal)', () => {
    const doc = { ...user, roles: [{ value: 'a', display: 'A' }, { value: 'b' }] };
    expect(patch(doc, { op: 'Remove', path: 'roles', value: [{ value: 'a', $ref: null }] }).roles).toEqual([{ value: 'b' }]);
  });

  test('readOnly targets: equal values are no-ops, different ones are mutability errors', () => {
    expect(patch(user, { op: 'replace', value: { id: 'u1', displayName: 'A' } }).displayName).toBe('A');
    expect(scimType(() => patch(user, { op: 'replace', value: { id: 'u2' } }))).toBe('mutability');
    expect(scimType(() => patch(user, { op: 'remove', path: 'meta' }))).toBe('mutability');
  });

  test('manager: string and one-element list tolerated; remove through a filter on a single-valued attribute', () => {
    const withManager = patch(user, { op: 'Add', path: 'manager', value: 'm1' });
    expect(withManager[ENTERPRISE_URN]).toEqual({ manager: { value: 'm1' } });
    expect(patch(user, { op: 'add', path: 'manager', value: [{ value: 'm2' }] })[ENTERPRISE_URN]).toEqual({ manager: { value: 'm2' } });
    expect(patch(withManager, { op: 'remove', path: 'manager[value eq "m1"]' })[ENTERPRISE_URN]).toBeUndefined();
  });

  test('removing a whole extension cannot clear an assigned immutable attribute (then re-add it changed)', () => {
    const withCode = new ScimSchemas(scimConfigSchema.parse({ extension: { attributes: { employeeCode: { type: 'string', mutability: 'immutable' }, userId: 'integer' } } })).user;
    const doc = { ...user, [HERALD_EXTENSION_URN]: { employeeCode: 'E-1', userId: 1 } };
    const bypass = [{ op: 'remove', path: HERALD_EXTENSION_URN }, { op: 'add', path: `${HERALD_EXTENSION_URN}:employeeCode`, value: 'E-999' }];
    expect(scimType(() => patchOn(withCode, doc, ...bypass))).toBe('mutability');
    expect(scimType(() => patchOn(withCode, doc, { op: 'remove', path: HERALD_EXTENSION_URN }))).toBe('mutability');
    expect(scimType(() => patchOn(withCode, doc, { op: 'remove', path: `${HERALD_EXTENSION_URN}:employeeCode` }))).toBe('mutability');
    // Without an immutable value the extension can still be removed as a whole.
    expect(patchOn(withCode, { ...user, [HERALD_EXTENSION_URN]: { userId: 1 } }, { op: 'remove', path: HERALD_EXTENSION_URN })[HERALD_EXTENSION_URN]).toBeUndefined();
    expect(patchOn(withCode, { ...user, [HERALD_EXTENSION_URN]: { userId: 1 } }, ...bypass)[HERALD_EXTENSION_URN]).toEqual({ employeeCode: 'E-999' });
  });

  test('a single-valued complex attribute with an assigned immutable sub-attribute cannot be removed or replaced as a whole', () => {
    // No built-in schema has one; a copy of the User type whose manager.value is immutable stands in.
    const strict = structuredClone(rt);
    const manager = strict.extensions.find((e) => e.id === ENTERPRISE_URN)!.attributes.find((a) => a.name === 'manager')!;
    manager.subAttributes!.find((s) => s.name === 'value')!.mutability = 'immutable';
    const doc = { ...user, [ENTERPRISE_URN]: { manager: { value: 'm1' } } };
    expect(scimType(() => patchOn(strict, doc, { op: 'replace', path: 'manager.value', value: 'm2' }))).toBe('mutability');
    expect(scimType(() => patchOn(strict, doc, { op: 'remove', path: 'manager' }, { op: 'add', path: 'manager', value: 'm2' }))).toBe('mutability');
    expect(scimType(() => patchOn(strict, doc, { op: 'remove', path: 'manager[value eq "m1"]' }))).toBe('mutability');
    expect(scimType(() => patchOn(strict, doc, { op: 'replace', path: 'manager', value: { value: 'm2' } }))).toBe('mutability');
    expect(scimType(() => patchOn(strict, doc, { op: 'remove', path: ENTERPRISE_URN }))).toBe('mutability');
    // Equal values and unassigned ones are fine.
    expect(patchOn(strict, doc, { op: 'replace', path: 'manager', value: { value: 'm1' } })[ENTERPRISE_URN]).toEqual({ manager: { value: 'm1' } });
    expect(patchOn(strict, user, { op: 'add', path: 'manager', value: 'm2' })[ENTERPRISE_URN]).toEqual({ manager: { value: 'm2' } });
  });

  test('envelope and path errors carry their scimType', () => {
    expect(scimType(() => readPatchRequest({ schemas: [PATCH], Operations: [{ op: 'copy', path: 'a' }] }))).toBe('invalidSyntax');
    expect(scimType(() => readPatchRequest({ schemas: [], Operations: [{ op: 'add', path: 'a', value: 1 }] }))).toBe('invalidSyntax');
    expect(scimType(() => readPatchRequest({ schemas: [PATCH], Operations: [{ op: 'remove' }] }))).toBe('noTarget');
    expect(scimType(() => patch(user, { op: 'add', path: 'emails[type eq "work"', value: 'x' }))).toBe('invalidPath');
    expect(scimType(() => patch(user, { op: 'add', path: 'emails[type xx "work"].value', value: 'x' }))).toBe('invalidFilter');
    expect(scimType(() => patch(user, { op: 'add', path: 'name.givenName.x', value: 'x' }))).toBe('invalidPath');
    expect(scimType(() => patch(user, { op: 'replace', path: 'emails[value co "zz"].type', value: 'x' }))).toBe('noTarget');
  });
});
