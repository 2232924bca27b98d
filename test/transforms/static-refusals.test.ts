/**
 * What never gets to run: the type checker and the bundler refuse Node APIs, module loading,
 * reserved claims and bad exports with file:line:col; the load probe refuses module top-level
 * failures; Herald does not start with any of them, nor with config that names a missing
 * transform or binds one to the wrong kind of connector.
 */
import { TransformRegistry } from '../../src/transforms/transform-registry.service.js';
import { TransformLoadError, type TransformDiagnostic } from '../../src/transforms/transform-errors.js';
import { transformsConfigSchema } from '../../src/transforms/transforms.config.js';
import { baseConfig, startHerald } from '../support/herald.js';
import { transformsDir } from './transforms-support.js';

const head = `import { defineTransform } from '@herald/transform';\n`;

const SOURCES: Record<string, string> = {
  'process-env': `${head}export default defineTransform({
  run() {
    return { claims: { home: process.env.HOME ?? '' } };
  },
});
`,
  'require-fs': `${head}const fs = require('fs');
export default defineTransform({
  run() {
    return { claims: { files: fs.readdirSync('/') } };
  },
});
`,
  'import-net': `${head}import net from 'node:net';
export default defineTransform({
  run() {
    return { claims: { ok: typeof net === 'object' } };
  },
});
`,
  'dynamic-import-net': `${head}export default defineTransform({
  async run() {
    const net = await import('node:net');
    return { claims: { ok: typeof net } };
  },
});
`,
  'set-sub': `${head}export default defineTransform({
  run() {
    return { claims: { sub: 'someone-else', role: 'user' } };
  },
});
`,
  'type-error': `${head}export default defineTransform({
  run({ upstream }) {
    const count: number = upstream.subject;
    return { claims: { count } };
  },
});
`,
  'no-default-export': `${head}export const transform = defineTransform({ run: () => ({ claims: {} }) });
`,
  'wrong-export': `export default { run: 42 };
`,
  'toplevel-loop': `${head}let spins = 0;
while (spins >= 0) spins++;
export default defineTransform({ run: () => ({ claims: {} }) });
`,
  'toplevel-throw': `${head}const settings = JSON.parse('{not json');
export default defineTransform({ run: () => ({ claims: { settings } }) });
`,
};

async function refusal(name: string): Promise<TransformDiagnostic[]> {
  const registry = new TransformRegistry({ directory, config: transformsConfigSchema.parse({}), names: [name] });
  const error = await registry.load().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransformLoadError);
  return (error as TransformLoadError).problems.flatMap((p) => p.diagnostics);
}

let directory: string;
beforeAll(() => {
  directory = transformsDir(SOURCES, ['corporate-groups', 'wallet-age']);
});

describe('transforms that never run', () => {
  test.each([
    ['process-env', 'TS2580', 4, 30, /'process' does not exist in a transform/],
    ['require-fs', 'TS2580', 2, 12, /'require' does not exist in a transform/],
    ['import-net', 'TS2591', 2, 17, /'node:net' does not exist in a transform/],
    ['dynamic-import-net', 'TS2591', 4, 30, /'node:net' does not exist in a transform/],
    ['set-sub', 'TS2322', 4, 24, /claim 'sub' is reserved/],
    ['type-error', 'TS2322', 4, 11, /Type 'string' is not assignable to type 'number'/],
    ['no-default-export', 'HERALD1', 1, 1, /must `export default defineTransform/],
    ['wrong-export', 'HERALD2', 1, 1, /default export must be a transform definition/],
  ])('%s is refused by the type checker at its position', async (name, code, line, column, message) => {
    const diagnostics = await refusal(name);
    // TS2580 and TS2591 are the same finding ("a Node.js name"), depending on the TypeScript version.
    const d = diagnostics.find((x) => x.code === code || (/^TS25(80|91)$/.test(code) && /^TS25(80|91)$/.test(x.code)));
    expect(d).toBeDefined();
    expect(d!.file).toMatch(new RegExp(`${name}\\.ts$`));
    expect([d!.line, d!.column]).toEqual([line, column]);
    expect(d!.message).toMatch(message);
  });

  test('a module top level that loops is refused by the load probe (CPU limit) at its line', async () => {
    const [d] = await refusal('toplevel-loop');
    expect(d).toMatchObject({ code: 'cpu_timeout', line: 3 });
    expect(d!.file).toMatch(/toplevel-loop\.ts$/);
  });

  test('a module top level that throws is refused at load with its position', async () => {
    const [d] = await refusal('toplevel-throw');
    expect(d).toMatchObject({ code: 'module_error', line: 2 });
    expect(d!.message).toMatch(/JSON/);
  });
});

describe('Herald does not start', () => {
  const dev = (transforms: string[]) => ({ type: 'dev' as const, id: 'dev', name: 'Dev', transforms, samples: {} });

  test('with a transform that does not type-check: the error names file:line:col', async () => {
    await expect(startHerald((issuer) => ({ ...baseConfig(issuer), connectors: [dev(['type-error'])], transforms: { directory } }))).rejects.toThrow(
      /type-error\.ts:4:11 - error TS2322: Type 'string' is not assignable to type 'number'/,
    );
  });

  test('with config naming a transform that does not exist', async () => {
    await expect(startHerald((issuer) => ({ ...baseConfig(issuer), connectors: [dev(['corporate-group'])], transforms: { directory } }))).rejects.toThrow(
      /corporate-group\.ts - error HERALD0: no transform named "corporate-group"/,
    );
  });

  test('with a transform bound to a connector of another upstream kind', async () => {
    await expect(startHerald((issuer) => ({ ...baseConfig(issuer), connectors: [dev(['wallet-age'])], transforms: { directory } }))).rejects.toThrow(
      /connectors\[0\]\.transforms\[0\] - error config: transform "wallet-age" is written for wallet sign-ins; connector type dev signs in with oidc/,
    );
  });

  test('with a binding for an unknown client', async () => {
    await expect(
      startHerald((issuer) => ({ ...baseConfig(issuer), connectors: [dev([])], transforms: { directory, bindings: [{ client: 'nobody', transforms: ['corporate-groups'] }] } })),
    ).rejects.toThrow(/transforms\.bindings\[0\]\.client - error config: unknown client id "nobody"/);
  });
});
