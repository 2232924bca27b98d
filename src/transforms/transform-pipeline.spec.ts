/** Chains, per-client bindings and merging, over a real registry and sandbox. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountUpdatePolicy } from './account-updates.js';
import { TransformPipeline, transformInputOf } from './transform-pipeline.js';
import { TransformRegistry } from './transform-registry.service.js';
import { transformsConfigSchema } from './transforms.config.js';
import { sampleAccount, sampleUpstream } from './fixture-input.js';

const head = `import { defineTransform, strings } from '@herald/transform';\n`;
const SOURCES: Record<string, string> = {
  groups: `${head}export default defineTransform({
  run({ upstream }) {
    return { claims: { roles: strings(upstream.attributes.groups), source: 'groups' }, risk: { score: 20, reasons: ['new'] } };
  },
});
`,
  tenant: `${head}export default defineTransform({
  run({ claims, client }) {
    return {
      claims: {
        tenant: client.id,
        source: 'tenant',
        admin: strings(claims.roles).includes('admins'),
      },
      accountUpdates: { homeDesk: 'eu' },
      risk: { score: 5 },
    };
  },
});
`,
  gate: `${head}export default defineTransform({
  run({ upstream }) {
    if (!upstream.email) return { deny: 'no email' };
    return { claims: { gated: true } };
  },
});
`,
  'saml-only': `${head}export default defineTransform({
  protocols: ['saml'],
  run({ upstream }) {
    return { claims: { nameId: upstream.protocol.nameId } };
  },
});
`,
  'bad-update': `${head}export default defineTransform({ run: () => ({ claims: {}, accountUpdates: { userName: 'root' } }) });
`,
};

describe('transform pipeline', () => {
  let registry: TransformRegistry;
  let pipeline: TransformPipeline;

  beforeAll(async () => {
    const directory = mkdtempSync(join(tmpdir(), 'herald-pipeline-'));
    for (const [name, source] of Object.entries(SOURCES)) writeFileSync(join(directory, `${name}.ts`), source);
    registry = new TransformRegistry({ directory, config: transformsConfigSchema.parse({}) });
    await registry.load();
    pipeline = new TransformPipeline(registry, {
      bindings: [
        { client: 'portal', transforms: ['tenant'], mode: 'append' },
        { client: 'kiosk', connectors: ['corp'], transforms: ['gate'], mode: 'replace' },
      ],
      accountUpdates: new AccountUpdatePolicy(['homeDesk'], { homeDesk: 'string' }),
    });
  });
  afterAll(() => registry?.close());

  const input = (identity: Record<string, unknown>, client = 'web', type = 'oidc') =>
    transformInputOf({ connector: { id: 'corp', type, name: 'Corp' }, client: { id: client }, identity: sampleUpstream(type, identity), account: sampleAccount({}) });

  test('bindings append to or replace the connector chain, per client and connector', () => {
    expect(pipeline.chainFor(['groups'], 'corp', 'web')).toEqual(['groups']);
    expect(pipeline.chainFor(['groups'], 'corp', 'portal')).toEqual(['groups', 'tenant']);
    expect(pipeline.chainFor(['groups'], 'corp', 'kiosk')).toEqual(['gate']);
    expect(pipeline.chainFor(['groups'], 'partner', 'kiosk')).toEqual(['groups']);
  });

  test('a chain merges claims in order (later wins), sees earlier claims, takes the highest risk', async () => {
    const { outcome, runs } = await pipeline.evaluate(['groups', 'tenant'], input({ subject: 'a', attributes: { groups: ['admins'] } }, 'portal'));
    expect(outcome).toMatchObject({
      kind: 'claims',
      claims: { roles: ['admins'], source: 'tenant', tenant: 'portal', admin: true },
      accountUpdates: { homeDesk: 'eu' },
      risk: 20,
      riskReasons: ['new'],
      transforms: ['groups', 'tenant'],
    });
    if (outcome.kind !== 'claims') throw new Error('expected claims');
    expect(outcome.origins.roles).toMatch(/groups\.ts:4$/);
    expect(outcome.origins.source).toMatch(/tenant\.ts:7$/); // the transform that wrote it last
    expect(outcome.origins.admin).toMatch(/tenant\.ts:8$/);
    expect(runs.map((r) => r.transform)).toEqual(['groups', 'tenant']);
  });

  test('the first denial ends the chain', async () => {
    const { outcome, runs } = await pipeline.evaluate(['gate', 'groups'], input({ subject: 'a' }));
    expect(outcome).toEqual({ kind: 'deny', reason: 'no email', transform: 'gate' });
    expect(runs).toHaveLength(1);
  });

  test('a transform declaring other protocols fails for this sign-in instead of running', async () => {
    const { outcome, runs } = await pipeline.evaluate(['saml-only'], input({ subject: 'a' }));
    expect(outcome).toMatchObject({ kind: 'failed', transform: 'saml-only', reason: 'protocol_mismatch', message: 'written for saml sign-ins, this one is oidc' });
    expect(runs).toHaveLength(0);
    const saml = await pipeline.evaluate(['saml-only'], input({ subject: 'alice@partner.example' }, 'web', 'saml'));
    expect(saml.outcome).toMatchObject({ kind: 'claims', claims: { nameId: 'alice@partner.example' } });
  });

  test('account updates the policy refuses fail the transform', async () => {
    const { outcome } = await pipeline.evaluate(['bad-update'], input({ subject: 'a' }));
    expect(outcome).toMatchObject({ kind: 'failed', transform: 'bad-update', reason: 'invalid_output', message: expect.stringContaining('"userName" is maintained by Herald') });
  });

  test('an unknown transform name fails cleanly', async () => {
    expect((await pipeline.evaluate(['nope'], input({ subject: 'a' }))).outcome).toMatchObject({ kind: 'failed', reason: 'unknown_transform' });
  });

  test('connector-private data never reaches a transform', () => {
    const json = transformInputOf({
      connector: { id: 'c', type: 'saml', name: 'C' },
      client: { id: 'w' },
      identity: { ...sampleUpstream('saml', { subject: 'x' }), private: { sessionIndex: 'secret-session' } },
      account: sampleAccount({}),
    });
    expect(JSON.stringify(json)).not.toContain('secret-session');
  });
});
