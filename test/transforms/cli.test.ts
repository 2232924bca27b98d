/**
 * The developer loop on the command line, run in-process through the real CLI (commander):
 * `herald transforms check | test | run` and `herald explain`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { runCli } from '../../src/cli/main.js';
import { SHIPPED, transformsDir } from './transforms-support.js';

/** Runs `herald <args>`; returns the exit code and everything printed. */
async function herald(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (chunk: unknown) => {
    out += String(chunk);
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(write as never);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(write as never);
  try {
    const code = await runCli(['node', 'herald', ...args]);
    return { code, out };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('herald transforms test', () => {
  test('passes on the shipped examples and their fixtures', async () => {
    const { code, out } = await herald('transforms', 'test', '--dir', SHIPPED);
    expect(out).toMatch(/corporate-groups \(4 cases\)/);
    expect(out).toContain('✓ traders on the EU desk get both roles and their provisioned business id');
    expect(out).toMatch(/partner-saml \(\d+ cases\)/);
    expect(out).toMatch(/wallet-age \(\d+ cases\)/);
    expect(out).toMatch(/\n\d+ passed, 0 failed/);
    expect(out).not.toContain('✗');
    expect(code).toBe(0);
  });

  test('fails with a readable diff on a broken fixture', async () => {
    const dir = transformsDir({}, ['corporate-groups']);
    const fixtures = join(dir, 'corporate-groups.fixtures.yaml');
    writeFileSync(fixtures, readFileSync(fixtures, 'utf8').replace('roles: [desk:eu, trader]', 'roles: [trader, admin]'));
    const { code, out } = await herald('transforms', 'test', '--dir', dir, 'corporate-groups');
    expect(code).toBe(1);
    expect(out).toMatch(/✗ traders on the EU desk get both roles and their provisioned business id \(corporate-groups\.fixtures\.yaml:\d+\)/);
    expect(out).toContain('claims.roles[0]: expected "trader", got "desk:eu"');
    expect(out).toMatch(/^ +- +"trader",?$/m);
    expect(out).toMatch(/^ +- +"admin"$/m);
    expect(out).toMatch(/^ +\+ +"desk:eu",$/m);
    expect(out).toMatch(/3 passed, 1 failed/);
  });

  test('a fixture expecting a denial that the transform does not give fails with what it did instead', async () => {
    const dir = transformsDir({}, ['corporate-groups']);
    const fixtures = join(dir, 'corporate-groups.fixtures.yaml');
    writeFileSync(fixtures, readFileSync(fixtures, 'utf8').replace('groups: [contractors]', 'groups: [admins]'));
    const { code, out } = await herald('transforms', 'test', '--dir', dir);
    expect(code).toBe(1);
    expect(out).toContain('expected the denial "none of the upstream groups grants a role", but it returned claims {"roles":["admin"]');
  });
});

describe('herald transforms check', () => {
  test('accepts the shipped transforms', async () => {
    const { code, out } = await herald('transforms', 'check', '--dir', SHIPPED);
    expect(out).toMatch(/3 transform\(s\) ok: corporate-groups, partner-saml, wallet-age/);
    expect(code).toBe(0);
  });

  test('catches a type error with its position', async () => {
    const dir = transformsDir({
      'roles-typo': `import { defineTransform, strings } from '@herald/transform';
export default defineTransform({
  run({ upstream }) {
    const roles: string = strings(upstream.attributes.groups);
    return { claims: { roles } };
  },
});
`,
    }, ['corporate-groups']);
    const { code, out } = await herald('transforms', 'check', '--dir', dir);
    expect(code).toBe(1);
    expect(out).toMatch(/roles-typo\.ts:4:11 - error TS2322: Type 'string\[\]' is not assignable to type 'string'\./);
    expect(out).not.toContain('corporate-groups.ts');
  });

  test('with a config, also checks what it references and how it binds transforms', async () => {
    const withConfig = async (connectors: string) => {
      const configDir = mkdtempSync(join(tmpdir(), 'herald-check-'));
      writeFileSync(join(configDir, 'herald.yaml'), `issuer: http://127.0.0.1:3999\nmode: development\nconnectors:\n${connectors}\ntransforms:\n  directory: ${SHIPPED}\n`);
      return herald('--config', configDir, 'transforms', 'check');
    };
    const missing = await withConfig('  - { type: dev, id: dev, name: Dev, transforms: [corporate-groups, corporate-grups] }');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/corporate-grups\.ts - error HERALD0: no transform named "corporate-grups"/);
    const mismatch = await withConfig('  - { type: dev, id: dev, name: Dev, transforms: [wallet-age] }');
    expect(mismatch.code).toBe(1);
    expect(mismatch.out).toMatch(/connectors\[0\]\.transforms\[0\] - error config: transform "wallet-age" is written for wallet sign-ins/);
  });
});

describe('herald transforms run', () => {
  test('prints the output of one run on a sample input, with claim origins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-run-'));
    const input = join(dir, 'sample.json');
    writeFileSync(input, JSON.stringify({ upstream: { subject: 'alice', attributes: { groups: ['admins', 'traders'] } }, account: { custom: { userId: 7 } } }));
    const { code, out } = await herald('transforms', 'run', 'corporate-groups', '--input', input, '--dir', SHIPPED);
    expect(code).toBe(0);
    const printed = JSON.parse(out) as { ok: boolean; output: { claims: Record<string, unknown> }; origins: Record<string, string> };
    expect(printed.ok).toBe(true);
    expect(printed.output.claims).toEqual({ roles: ['admin', 'trader'], user_id: 7 });
    expect(printed.origins.roles).toMatch(/^transform:transforms\/corporate-groups\.ts:\d+$/);
  });

  test('exits non-zero and prints the failure when the run fails', async () => {
    const dir = transformsDir({ thrower: `import { defineTransform } from '@herald/transform';\nexport default defineTransform({\n  run() {\n    throw new Error('upstream sent nonsense');\n  },\n});\n` });
    const input = join(dir, 'sample.json');
    writeFileSync(input, JSON.stringify({ upstream: { subject: 'alice' } }));
    const { code, out } = await herald('transforms', 'run', 'thrower', '--input', input, '--dir', dir);
    expect(code).toBe(1);
    expect(out).toMatch(/"kind": "error"/);
    expect(out).toMatch(/"message": "upstream sent nonsense"/);
    expect(out).toMatch(/"line": 4/);
  });
});

describe('herald explain', () => {
  test('shows the access token Herald would issue and where each claim comes from', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'herald-explain-'));
    writeFileSync(
      join(configDir, 'herald.yaml'),
      `issuer: http://127.0.0.1:3999
mode: development
apis:
  - { id: trading, identifier: https://api.example.com/trading, scopes: [trades, trades:read], accessTokenTtl: 600 }
scopes:
  trades: { claims: [roles, user_id, given_name, { name: tier, value: standard }, { name: desk, from: account, attribute: enterprise.department }] }
clients:
  - { id: web, secret: web-app-secret-0123456789abcdef-0123456789, redirectUris: [http://127.0.0.1:9/cb], apis: [trading] }
connectors:
  - { type: dev, id: corp, name: Corporate, transforms: [corporate-groups] }
transforms:
  directory: ${SHIPPED}
`,
    );
    const identity = join(configDir, 'identity.json');
    writeFileSync(identity, JSON.stringify({ subject: 'alice', attributes: { groups: ['traders'] } }));
    const account = join(configDir, 'account.json');
    writeFileSync(account, JSON.stringify({ id: 'u-1', core: { name: { givenName: 'Alice' } }, custom: { userId: 2998 } }));
    const { code, out } = await herald('--config', configDir, 'explain', '--connector', 'corp', '--client', 'web', '--scopes', 'openid trades', '--identity', identity, '--account', account);
    expect(code).toBe(0);
    expect(out).toContain('Transforms: corporate-groups — claims');
    expect(out).toContain('"aud": "https://api.example.com/trading"');
    expect(out).toContain('"roles": [\n    "trader"\n  ]');
    // The lines where corporate-groups.ts writes each claim.
    const source = readFileSync(join(SHIPPED, 'corporate-groups.ts'), 'utf8').split('\n');
    const lineOf = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
    expect(out).toMatch(new RegExp(`^ {2}roles +transform:transforms/corporate-groups\\.ts:${lineOf('        roles,')}$`, 'm'));
    expect(out).toMatch(new RegExp(`^ {2}user_id +transform:transforms/corporate-groups\\.ts:${lineOf('user_id:')}$`, 'm'));
    expect(out).toMatch(/^ {2}given_name +account:oidc\.given_name$/m);
    expect(out).toMatch(/^ {2}tier +static$/m);
    expect(out).toMatch(/^ {2}sub +herald$/m);
    expect(out).toMatch(/desk: no value \(tried: account\)/);
  });
});
