/**
 * Hostile and broken transforms, each bound to its own (dev) connector of one running Herald.
 * Every case: the sign-in through the hostile transform ends with a generic page, access_denied
 * for the client and a `transform.failed` audit event naming the failure (kind, file, line);
 * meanwhile a normal sign-in started at the same moment through `corporate-groups` succeeds and
 * is not held up for seconds. (Exact latencies belong to bench/transforms.mjs.) Cases the type
 * checker or bundler refuse outright (process.env typed, require('fs'), import('node:net')) are in
 * static-refusals.test.ts; these variants get past the types on purpose.
 */
import { createServer, type Server } from 'node:http';
import { decodeJwt } from 'jose';
import type { TestHerald } from '../support/herald.js';
import { baseConfig, startHerald } from '../support/herald.js';
import { freePort } from '../support/ports.js';
import { TestBrowser } from '../support/browser.js';
import { clientPeer, redeem, type ClientPeer } from '../peers/client.js';
import { devSignIn, followFailure, transformsDir } from './transforms-support.js';

const SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const REDIRECT = 'http://127.0.0.1:9/app/callback';
/** A normal sign-in takes a fraction of a second here; "blocked" would mean seconds. */
const NOT_BLOCKED_MS = 2000;

const head = `import { defineTransform } from '@herald/transform';\n`;

/** name → [source, expected failure kind, expected message fragment, line of the failure or undefined]. */
const CASES: Record<string, { source: string; kind: string | RegExp; message: RegExp; line?: number }> = {
  'infinite-loop': {
    source: `${head}export default defineTransform({
  run() {
    let spins = 0;
    for (;;) spins++;
  },
});
`,
    kind: 'cpu_timeout',
    message: /exceeded 50 ms of CPU time/,
    line: 5,
  },
  'endless-await': {
    source: `${head}export default defineTransform({
  async run() {
    await new Promise<never>(() => {});
    return { claims: {} };
  },
});
`,
    kind: 'never_settled',
    message: /never settled/,
  },
  'memory-bomb': {
    source: `${head}export default defineTransform({
  run() {
    const hoard: string[][] = [];
    for (;;) hoard.push(new Array(1_000_000).fill('x'));
  },
});
`,
    kind: 'memory_limit',
    message: /memory limit/,
  },
  'process-env': {
    source: `${head}export default defineTransform({
  run() {
    const env = (globalThis as any).process.env;
    return { claims: { env: JSON.stringify(env) } };
  },
});
`,
    kind: 'error',
    message: /Cannot read properties of undefined \(reading 'env'\)/,
    line: 4,
  },
  'require-fs': {
    source: `${head}export default defineTransform({
  run() {
    const load = (globalThis as any)['req' + 'uire'];
    const fs = load('fs');
    return { claims: { root: fs.readdirSync('/') } };
  },
});
`,
    kind: 'error',
    message: /load is not a function/,
    line: 5,
  },
  'import-net': {
    source: `${head}export default defineTransform({
  async run() {
    const specifier = ['node', 'net'].join(':'); // not a constant: gets past the bundler
    const net = await import(specifier);
    return { claims: { socket: typeof net.connect } };
  },
});
`,
    kind: 'error',
    message: /Not supported/,
  },
  'constructor-escape': {
    source: `${head}export default defineTransform({
  run() {
    const host = (this as any).constructor.constructor('return process')();
    return { claims: { pid: host.pid } };
  },
});
`,
    kind: 'error',
    message: /process is not defined/,
  },
  'fetch-not-allowed': {
    source: `${head}export default defineTransform({
  async run({ upstream }, ctx) {
    const profile = await ctx.http.getJson(\`http://127.0.0.1:\${(upstream.attributes.port as number)}/steal\`);
    return { claims: { profile } };
  },
});
`,
    kind: 'error',
    message: /origin http:\/\/127\.0\.0\.1:\d+ is not allow-listed/,
    line: 4,
  },
  'global-fetch': {
    source: `${head}export default defineTransform({
  async run() {
    const response = await (globalThis as any).fetch('http://127.0.0.1:1/steal');
    return { claims: { status: response.status } };
  },
});
`,
    kind: 'error',
    message: /fetch is not a function/,
    line: 4,
  },
  'set-sub': {
    source: `${head}export default defineTransform({
  run() {
    const claims: Record<string, string> = { role: 'user' };
    claims['s' + 'ub'] = 'someone-else';
    return { claims };
  },
});
`,
    kind: 'invalid_output',
    message: /"sub" is a reserved claim/,
  },
  'set-aud': {
    source: `${head}export default defineTransform({
  run() {
    const claims: Record<string, string> = {};
    claims['a' + 'ud'] = 'https://other-api.example';
    return { claims };
  },
});
`,
    kind: 'invalid_output',
    message: /"aud" is a reserved claim/,
  },
  'return-function': {
    source: `${head}export default defineTransform({
  run() {
    return { claims: { callback: (() => 'pwned') as unknown as string } };
  },
});
`,
    kind: 'invalid_output',
    message: /result\.claims\.callback: a function is not JSON/,
  },
  'return-cycle': {
    source: `${head}export default defineTransform({
  run() {
    const node: any = { name: 'loop' };
    node.self = node;
    return { claims: { node } };
  },
});
`,
    kind: 'invalid_output',
    message: /result\.claims\.node\.self: cycle/,
  },
  'big-string': {
    source: `${head}export default defineTransform({
  run() {
    return { claims: { blob: 'x'.repeat(1024 * 1024) } };
  },
});
`,
    kind: 'output_too_large',
    message: /limit 16384/,
  },
  'proto-keys': {
    source: `${head}export default defineTransform({
  run() {
    const claims = JSON.parse('{"role":"user","__proto__":{"isAdmin":true}}');
    return { claims };
  },
});
`,
    kind: 'invalid_output',
    message: /forbidden key "__proto__"/,
  },
  'slow-api': {
    source: `${head}export default defineTransform({
  async run({ upstream }, ctx) {
    const settings = await ctx.http.getJson(\`http://127.0.0.1:\${upstream.attributes.port as number}/hang\`);
    return { claims: { settings } };
  },
});
`,
    kind: /error|wall_timeout/,
    message: /timed out|wall-time/,
  },
};

describe('hostile and broken transforms', () => {
  let herald: TestHerald;
  let app: ClientPeer;
  let api: Server;
  let apiPort: number;
  let apiHits = 0;

  beforeAll(async () => {
    // An HTTP server that would answer anything: only slow-api's origin is allow-listed.
    apiPort = await freePort();
    api = createServer((req, res) => {
      apiHits++;
      if (req.url === '/hang') return; // never answers
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"secret":"leaked"}');
    });
    await new Promise<void>((resolve) => api.listen(apiPort, '127.0.0.1', resolve));
    const directory = transformsDir(Object.fromEntries(Object.entries(CASES).map(([name, c]) => [name, c.source])), ['corporate-groups']);
    const sample = { sub: 'alice-upstream', email: 'alice@example.com', email_verified: true, groups: ['traders'], port: apiPort };
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      scopes: { trades: { claims: ['roles', 'user_id'] } },
      clients: [{ id: 'web', secret: SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true }],
      connectors: [
        { type: 'dev', id: 'corp', name: 'Corporate', transforms: ['corporate-groups'], samples: { alice: sample } },
        ...Object.keys(CASES).map((name) => ({ type: 'dev' as const, id: name, name, transforms: [name], samples: { alice: sample } })),
      ],
      transforms: {
        directory,
        grants: {
          // Enough CPU budget that the memory limit, not the CPU timer, stops the bomb.
          'memory-bomb': { limits: { cpuMs: 2000, wallMs: 5000 } },
          'slow-api': { allowedOrigins: [`http://127.0.0.1:${apiPort}`], limits: { wallMs: 700 } },
        },
      },
    }));
    app = await clientPeer(herald.issuer, 'web', SECRET, REDIRECT);
  });
  afterAll(async () => {
    await herald?.stop();
    await new Promise<void>((resolve) => api?.close(() => resolve()));
  });

  test.each(Object.keys(CASES))('%s fails as specified while a normal sign-in succeeds alongside', async (name) => {
    const expected = CASES[name]!;
    const hitsBefore = apiHits;
    const browser = new TestBrowser();
    const [hostile, normal] = await Promise.all([devSignIn(app, name, 'alice', { browser }), devSignIn(app, 'corp', 'alice')]);

    // The normal sign-in went through, with its transform's claims, and was not held up.
    expect(normal.callback?.searchParams.get('code')).toEqual(expect.any(String));
    expect(normal.ms).toBeLessThan(NOT_BLOCKED_MS);
    const tokens = await redeem(app, normal.callback!, normal.start);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ roles: ['trader'] });

    // The hostile one: a generic page without internals, then access_denied for the client.
    expect(hostile.callback).toBeUndefined();
    expect(hostile.page.status).toBe(403);
    expect(hostile.page.body).toContain('could not be completed');
    expect(hostile.page.body).not.toContain(name);
    expect(hostile.page.body).not.toMatch(/\.ts:\d+|Error|process|__proto__/);
    expect((await followFailure(browser, hostile.page, app)).searchParams.get('error')).toBe('access_denied');

    // The audit trail names the transform, the kind of failure, its message and position.
    const event = (await herald.audit.find({ type: 'transform.failed' })).filter((e) => e.connectorId === name).at(-1);
    expect(event?.data).toMatchObject({ transform: name });
    expect(String(event?.data?.kind)).toMatch(expected.kind);
    expect(String(event?.data?.message)).toMatch(expected.message);
    expect(String(event?.data?.file)).toMatch(new RegExp(`${name}\\.ts$`));
    if (expected.line) expect(event?.data?.line).toBe(expected.line);

    // Only the allow-listed (slow) API was ever contacted.
    if (name !== 'slow-api') expect(apiHits).toBe(hitsBefore);
  });

  test('after every attack the hostile transforms still fail cleanly and the sandbox still serves', async () => {
    const again = await Promise.all([devSignIn(app, 'infinite-loop', 'alice'), devSignIn(app, 'memory-bomb', 'alice'), devSignIn(app, 'corp', 'alice')]);
    expect(again[0].page.status).toBe(403);
    expect(again[1].page.status).toBe(403);
    expect(again[2].callback?.searchParams.get('code')).toEqual(expect.any(String));
  });
});
