import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseInput, FixtureFileError, loadFixtures } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-fixtures-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('fixture files', () => {
  test('cases are read with their line numbers; a missing file is not an error', () => {
    const fixtures = loadFixtures(file('ok.fixtures.yaml', 'cases:\n  - name: one\n    input: { upstream: { subject: a } }\n    expect: { claims: {} }\n  - name: two\n    input: { upstream: { subject: b } }\n    expect: { deny: no }\n'));
    expect(fixtures?.cases.map((c) => [c.name, c.line])).toEqual([
      ['one', 2],
      ['two', 5],
    ]);
    expect(loadFixtures(join(dir, 'absent.fixtures.yaml'))).toBeUndefined();
  });

  test.each([
    ['no cases', 'defaults: {}\n', /cases/],
    ['two expectations', 'cases:\n  - name: x\n    input: {}\n    expect: { claims: {}, deny: no }\n', /exactly one of claims, deny, error/],
    ['accountUpdates without claims', 'cases:\n  - name: x\n    input: {}\n    expect: { deny: no, accountUpdates: {} }\n', /accountUpdates and risk go with claims/],
    ['an unknown key', 'cases:\n  - name: x\n    input: {}\n    expect: { claims: {} }\n    extra: 1\n', /extra|Unrecognized/],
    ['broken YAML', 'cases: [\n', /fixtures\.yaml:\d+/],
  ])('refuses %s with the file named', (_label, text, message) => {
    const path = file(`bad-${_label.replace(/\W/g, '')}.fixtures.yaml`, text);
    expect(() => loadFixtures(path)).toThrow(FixtureFileError);
    expect(() => loadFixtures(path)).toThrow(message);
  });

  test('case input: defaults merged deeply, omitted parts filled, protocol derived from the connector type', () => {
    const input = caseInput({ connector: { id: 'partner', type: 'saml' }, account: { custom: { a: 1 } } }, { upstream: { subject: 'alice', attributes: { Role: ['Admin'] } }, account: { custom: { b: 2 } } });
    expect(input).toMatchObject({
      connector: { id: 'partner', type: 'saml', name: 'partner' },
      client: { id: 'fixture-client' },
      account: { id: 'fixture-user', userName: 'fixture-user', externalId: null, custom: { a: 1, b: 2 } },
      upstream: { subject: 'alice', amr: [], attributes: { Role: ['Admin'] }, protocol: { kind: 'saml', nameId: 'alice', attributes: { Role: ['Admin'] }, friendlyAttributes: {} } },
      claims: {},
    });
  });
});
