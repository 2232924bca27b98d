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

  test('control characters and unterminated strings are refused before the parser sees them (tokenizer backtracking)', () => {
    const scimTypeOf = (filter: string) => {
      try {
        parseFilterText(filter, 4096);
      } catch (error) {
        return error instanceof ScimError ? `${error.scimType}: ${error.detail}` : 'other error';
      }
      return 'parsed';
    };
    // Exponential in the newlines for scim2-parse-filter's tokenizer: this would not return for days.
    expect(scimTypeOf(`userName eq "${'\n'.repeat(60)}`)).toMatch(/^invalidFilter: .*control character \(U\+000A\)/);
    expect(scimTypeOf(`emails[value eq "${'\n'.repeat(60)}\\\n"]`)).toMatch(/^invalidFilter: .*control character/);
    for (const c of ['\t', '\r', '\u0000', '\u001b', '\u007f']) expect(scimTypeOf(`userName eq "a${c}b"`)).toMatch(/^invalidFilter: .*control character/);
    expect(scimTypeOf('userName eq "a"\nand title pr')).toMatch(/^invalidFilter/);
    for (const f of ['userName eq "abc', 'userName eq "a\\"', 'userName eq "a" or title eq "b', 'userName eq "a\\']) expect(scimTypeOf(f)).toBe('invalidFilter: the filter has an unterminated quoted string');
    // Escapes, brackets and quotes inside strings are still fine.
    expect(scimTypeOf('userName eq "a\\"b" and emails[value co "]"]')).toBe('parsed');
    expect(matches('userName eq "bjensen" and emails[type eq "work"]')).toBe(true);
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
