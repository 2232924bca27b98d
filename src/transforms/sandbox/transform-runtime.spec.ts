/**
 * The sandbox runtime on its own: what survives between runs (nothing), the hardened realm,
 * limits that need a host to misbehave (a capability that never answers), the breaker, and
 * run-to-run hygiene of reused contexts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileTransform } from '../transform-compiler.js';
import { sdkSourcePath } from '../sdk-path.js';
import { FixtureHttpCapability, type HttpCapability } from '../transform-http.capability.js';
import { TransformRuntime, TransformStartError } from './transform-runtime.js';
import type { SandboxLimits } from './sandbox-types.js';

const dir = mkdtempSync(join(tmpdir(), 'herald-runtime-'));
const runtimes: TransformRuntime[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
});

async function runtime(name: string, body: string, options: { limits?: Partial<SandboxLimits>; http?: HttpCapability; secrets?: Record<string, string> } = {}): Promise<TransformRuntime> {
  writeFileSync(join(dir, `${name}.ts`), `import { defineTransform } from '@herald/transform';\n${body}`);
  const compiled = await compileTransform(join(dir, `${name}.ts`), { transformsDir: dir, sdkPath: sdkSourcePath() });
  const rt = await new TransformRuntime(compiled, { http: options.http ?? new FixtureHttpCapability({}), limits: options.limits, secrets: options.secrets }).start();
  runtimes.push(rt);
  return rt;
}

const input = (attributes: Record<string, unknown> = {}) => ({
  upstream: { subject: 'alice', attributes, amr: [], protocol: { kind: 'oidc', issuer: 'https://idp.example', idToken: attributes, userinfo: {} } },
  account: { id: 'u1', userName: 'alice', externalId: null, email: null, emailVerified: false, core: {}, enterprise: {}, custom: {} },
  connector: { id: 'c', type: 'oidc', name: 'C' },
  client: { id: 'web' },
  claims: {},
});

const claimsOf = (result: Awaited<ReturnType<TransformRuntime['run']>>) => {
  if (!result.ok || result.output.kind !== 'result') throw new Error(`expected claims, got ${JSON.stringify(result)}`);
  return result.output.claims;
};

describe('sandbox runtime', () => {
  test('nothing a run writes reaches the next run in a reused context', async () => {
    const rt = await runtime(
      'leak-probe',
      `let counter = 0;
export default defineTransform({
  run({ upstream }) {
    counter++;
    const seen: string[] = [];
    const g = globalThis as any;
    if (g.previous) seen.push('global:' + g.previous);
    if (({} as any).polluted) seen.push('Object.prototype');
    if ((RegExp as any).$1) seen.push('RegExp.$1');
    const writes: string[] = [];
    for (const write of [() => { g.previous = upstream.subject; }, () => { (Object.prototype as any).polluted = true; }, () => { (Array.prototype as any).push = null; }]) {
      try { write(); writes.push('ok'); } catch { writes.push('refused'); }
    }
    /(al)ice/.exec(upstream.subject);
    return { claims: { counter, seen, writes } };
  },
});
`,
    );
    for (let i = 0; i < 3; i++) {
      expect(claimsOf(await rt.run(input()))).toEqual({ counter: 1, seen: [], writes: ['refused', 'refused', 'refused'] });
    }
  });

  test('a hardened realm still lets ordinary code assign name/message/toString (override mistake)', async () => {
    const rt = await runtime(
      'error-subclass',
      `class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}
export default defineTransform({
  run() {
    const e = new MappingError('bad group');
    const o: any = { toString() { return 'custom'; } };
    return { claims: { name: e.name, message: e.message, text: String(o) } };
  },
});
`,
    );
    expect(claimsOf(await rt.run(input()))).toEqual({ name: 'MappingError', message: 'bad group', text: 'custom' });
  });

  test('no WebAssembly, SharedArrayBuffer, Atomics, WeakRef, timers, fetch, process, host reference or stack-trace hook', async () => {
    const rt = await runtime(
      'globals',
      `export default defineTransform({
  run() {
    const g = globalThis as any;
    let prepare = 'pinned';
    try { (Error as any).prepareStackTrace = () => 'x'; prepare = 'writable'; } catch { /* refused */ }
    return { claims: { present: ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'WeakRef', 'FinalizationRegistry', 'setTimeout', 'fetch', 'process', 'require', '__herald_host'].filter((k) => g[k] !== undefined), prepare } };
  },
});
`,
    );
    expect(claimsOf(await rt.run(input()))).toEqual({ present: [], prepare: 'pinned' });
  });

  test('the input is deep-frozen JSON: upstream values are data, never code', async () => {
    const rt = await runtime(
      'frozen-input',
      `export default defineTransform({
  run({ upstream }) {
    let mutated = false;
    try { (upstream.attributes as any).groups.push('admins'); mutated = true; } catch { /* frozen */ }
    return { claims: { mutated, text: upstream.attributes.code as string } };
  },
});
`,
    );
    const code = "'); process.exit(1); ('";
    expect(claimsOf(await rt.run(input({ groups: ['a'], code })))).toEqual({ mutated: false, text: code });
  });

  test('a host capability that never answers is cut by the wall-time watchdog; the isolate is replaced', async () => {
    const never: HttpCapability = { getJson: () => new Promise<string>(() => {}) };
    const rt = await runtime(
      'hang',
      `export default defineTransform({
  async run({ upstream }, ctx) {
    if (upstream.subject === 'quick') return { claims: { quick: true } };
    await ctx.http.getJson('https://slow.example/');
    return { claims: {} };
  },
});
`,
      { http: never, limits: { wallMs: 300 } },
    );
    const result = await rt.run(input());
    expect(result).toMatchObject({ ok: false, error: { kind: 'wall_timeout' } });
    expect(rt.stats.isolatesLost).toBe(1);
    const next = await rt.run({ ...input(), upstream: { ...input().upstream, subject: 'quick' } });
    expect(claimsOf(next)).toEqual({ quick: true });
  });

  test('repeated resource failures open the breaker: runs then fail fast with circuit_open', async () => {
    const rt = await runtime('spin', `export default defineTransform({ run() { for (;;) {} } });\n`, { limits: { cpuMs: 10, breakerThreshold: 2, breakerCooldownMs: 60_000 } });
    expect((await rt.run(input())).ok).toBe(false);
    expect((await rt.run(input())).ok).toBe(false);
    const fast = await rt.run(input());
    expect(fast).toMatchObject({ ok: false, error: { kind: 'circuit_open' } });
    expect(fast.ms).toBeLessThan(1000);
  });

  test('a thrown error is reported with its name, message and .ts position', async () => {
    const rt = await runtime(
      'throws',
      `export default defineTransform({
  async run({ upstream }) {
    throw new TypeError('no groups for ' + upstream.subject);
  },
});
`,
    );
    expect(await rt.run(input())).toMatchObject({ ok: false, error: { kind: 'error', message: 'no groups for alice', name: 'TypeError', line: 4, column: 11 } });
  });

  test('log lines are bounded in number', async () => {
    const rt = await runtime('chatty', `export default defineTransform({ run(_i, ctx) { for (let i = 0; i < 100; i++) ctx.log('line ' + i); return { claims: {} }; } });\n`);
    const result = await rt.run(input());
    expect(result.ok).toBe(true);
    expect(result.logs).toHaveLength(20);
    expect(result.logs[0]).toEqual({ message: 'line 0', data: null });
  });

  test('a fresh context per run (contextReuse 1) serves the same results', async () => {
    const rt = await runtime('fresh', `export default defineTransform({ run({ upstream }) { return { claims: { who: upstream.subject } }; } });\n`, { limits: { contextReuse: 1 } });
    for (let i = 0; i < 3; i++) expect(claimsOf(await rt.run(input()))).toEqual({ who: 'alice' });
  });

  test('input beyond the size and depth limits is refused before it reaches the isolate', async () => {
    const rt = await runtime('echo', `export default defineTransform({ run() { return { claims: {} }; } });\n`);
    expect(await rt.run(input({ blob: 'x'.repeat(70 * 1024) }))).toMatchObject({ ok: false, error: { kind: 'input_too_large' } });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(await rt.run(input({ deep }))).toMatchObject({ ok: false, error: { kind: 'input_invalid' } });
  });

  test('a wrong export is refused when the runtime starts', async () => {
    writeFileSync(join(dir, 'not-a-transform.ts'), 'export default { run: 42 };\n');
    const compiled = await compileTransform(join(dir, 'not-a-transform.ts'), { transformsDir: dir, sdkPath: sdkSourcePath() });
    await expect(new TransformRuntime(compiled, { http: new FixtureHttpCapability({}) }).start()).rejects.toBeInstanceOf(TransformStartError);
  });
});
