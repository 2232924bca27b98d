import { ScimError } from './scim.errors.js';
import { evaluate, indexHint, parseFilter, parseFilterText, compileFilter, rewriteSubAttributeAfterValuePath } from './scim-filter.js';
import { ScimSchemas, HERALD_EXTENSION_URN } from './scim-schema.js';
import { scimConfigSchema } from './scim.config.js';

const schemas = new ScimSchemas(scimConfigSchema.parse({ extension: { attributes: { userId: 'integer', locations: 'string[]' } } }));
const rt = schemas.user;

const bjensen = {
  id: 'u1',
  userName: 'BJensen',
  title: '',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  meta: { created: '2011-05-13T04:42:34Z' },
  [HERALD_EXTENSION_URN]: { userId: 42, locations: ['Paris', 'NY'] },
};

const matches = (filter: string) => evaluate(parseFilter(rt, filter, 4096), bjensen);

describe('SCIM filters', () => {
  test('Entra\'s attr[filter].sub op value becomes one correlated value filter', () => {
    expect(rewriteSubAttributeAfterValuePath('emails[type eq "work"].value eq "a]b"')).toBe('emails[(type eq "work") and value eq "a]b"]');
    expect(rewriteSubAttributeAfterValuePath('emails[type eq "work"] and emails.value eq "x"')).toBe('emails[type eq "work"] and emails.value eq "x"');
    expect(matches('emails[type eq "work"].value eq "babs@jensen.org"')).toBe(false);
    expect(matches('emails[type eq "home"].value eq "BABS@jensen.org"')).toBe(true);
  });

  test('schema-aware semantics the library evaluator gets wrong', () => {
    expect(matches('userName eq "bjensen"')).toBe(true); // caseExact=false
    expect(matches('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj"')).toBe(true);
    expect(matches('emails[type eq "work" and value co "jensen.org"]')).toBe(false); // one element must satisfy both
    expect(matches(`${HERALD_EXTENSION_URN}:locations eq "paris"`)).toBe(true); // multi-valued primitives: any
    expect(matches('emails co "jensen.org"')).toBe(true); // complex → value
    expect(matches('meta.created gt "2011-05-13T04:42:34.000Z"')).toBe(false); // dates compare as instants
    expect(matches('meta.created ge "2011-05-13T06:42:34+02:00"')).toBe(true);
    expect(matches('title pr')).toBe(false); // "" is not present
    expect(matches('nickName ne "x"')).toBe(true); // absent: only ne matches
    expect(matches('nickName eq null')).toBe(true);
    expect(matches(`${HERALD_EXTENSION_URN}:userId gt "41"`)).toBe(true);
  });

  test('every parse or resolution failure is invalidFilter', () => {
    for (const bad of ['', 'userName', 'userName eq', 'a eq "x" and', 'nosuch eq 1', 'active gt true', '((((', '"unterminated']) {
      let error: unknown;
      try {
        parseFilter(rt, bad, 4096);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ScimError);
      expect((error as ScimError).scimType).toBe('invalidFilter');
    }
    expect(() => parseFilter(rt, `${'('.repeat(6000)}userName eq "a"${')'.repeat(6000)}`, 100_000)).toThrow(ScimError);
  });

  test('index push-down: only exact equality on indexed columns, or an or of them', () => {
    const hint = (f: string) => {
      const raw = parseFilterText(f, 4096);
      return indexHint(rt, compileFilter(rt, raw), raw);
    };
    expect(hint('userName eq "A" and title pr')).toEqual({ column: 'userName', values: ['A'] });
    expect(hint('externalId eq "x" or externalId eq "y"')).toEqual({ column: 'externalId', values: ['x', 'y'] });
    expect(hint('userName eq "a" or externalId eq "y"')).toBeUndefined();
    expect(hint('not (userName eq "a")')).toBeUndefined();
    expect(hint('userName sw "a"')).toBeUndefined();
  });
});
