/**
 * Hot reload: in development a changed transform file is recompiled and swapped while Herald runs;
 * in production (no file watching) SIGHUP or `POST /admin/transforms/reload` does it. A broken
 * edit keeps the last good version serving and reports the error with its position. Also the
 * admin API around it (listing, explain, scope checks).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import type { TestHerald } from '../support/herald.js';
import { baseConfig, startHerald } from '../support/herald.js';
import { clientPeer, oidc, redeem, type ClientPeer } from '../peers/client.js';
import { devSignIn, transformsDir } from './transforms-support.js';

const SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const OPS_SECRET = 'ops-secret-0123456789abcdef-0123456789abcd';
const REDIRECT = 'http://127.0.0.1:9/app/callback';

const versioned = (version: number) => `import { defineTransform } from '@herald/transform';
export default defineTransform({
  run() {
    return { claims: { version: ${version} } };
  },
});
`;
const BROKEN = `import { defineTransform } from '@herald/transform';
export default defineTransform({
  run() {
    const version: number = 'four';
    return { claims: { version } };
  },
});
`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function start(dir: string, watch: boolean): Promise<{ herald: TestHerald; app: ClientPeer; ops: ClientPeer }> {
  const herald = await startHerald((issuer) => ({
    ...baseConfig(issuer),
    scopes: { trades: { claims: ['version'] } },
    clients: [
      { id: 'web', secret: SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true },
      { id: 'ops', secret: OPS_SECRET, grantTypes: ['client_credentials'], apis: ['admin'] },
    ],
    connectors: [{ type: 'dev', id: 'dev', name: 'Dev', transforms: ['versioned'], samples: { alice: { sub: 'alice' } } }],
    transforms: { directory: dir, watch },
  }));
  return { herald, app: await clientPeer(herald.issuer, 'web', SECRET, REDIRECT), ops: await clientPeer(herald.issuer, 'ops', OPS_SECRET) };
}

async function versionServed(app: ClientPeer): Promise<unknown> {
  const signIn = await devSignIn(app, 'dev', 'alice');
  if (!signIn.callback) return `failed (${signIn.page.status})`;
  return decodeJwt((await redeem(app, signIn.callback, signIn.start)).access_token).version;
}

describe('hot reload in development (file watching)', () => {
  let dir: string;
  let herald: TestHerald;
  let app: ClientPeer;

  beforeAll(async () => {
    dir = transformsDir({ versioned: versioned(1) });
    ({ herald, app } = await start(dir, true));
  });
  afterAll(() => herald?.stop());

  test('a changed transform is recompiled and swapped in; a broken edit keeps the last good version and is reported', async () => {
    expect(await versionServed(app)).toBe(1);

    writeFileSync(join(dir, 'versioned.ts'), versioned(2));
    await until('version 2', async () => ((await versionServed(app)) === 2 ? true : undefined));

    writeFileSync(join(dir, 'versioned.ts'), BROKEN);
    const refused = await until('the refused reload', async () =>
      (await herald.audit.find({ type: 'transforms.reloaded' })).find((e) => e.outcome === 'failure'),
    );
    expect(refused.reason).toBe('kept_last_good');
    expect(refused.data).toMatchObject({ trigger: 'watch', keptLastGood: ['versioned'], problems: [expect.stringMatching(/versioned\.ts:4:11 - error TS2322/)] });
    expect(await versionServed(app)).toBe(2);

    writeFileSync(join(dir, 'versioned.ts'), versioned(3));
    await until('version 3', async () => ((await versionServed(app)) === 3 ? true : undefined));
  });
});

describe('hot reload in production (SIGHUP, admin API)', () => {
  let dir: string;
  let herald: TestHerald;
  let app: ClientPeer;
  let ops: ClientPeer;
  const token = async (scope: string) => (await oidc.clientCredentialsGrant(ops.config, { scope })).access_token;

  beforeAll(async () => {
    dir = transformsDir({ versioned: versioned(1) });
    ({ herald, app, ops } = await start(dir, false));
  });
  afterAll(() => herald?.stop());

  test('without file watching, an edit changes nothing until an admin reload; a broken edit is refused with its position', async () => {
    writeFileSync(join(dir, 'versioned.ts'), versioned(2));
    await sleep(400);
    expect(await versionServed(app)).toBe(1);

    const reload = await fetch(`${herald.issuer}/admin/transforms/reload`, { method: 'POST', headers: { authorization: `Bearer ${await token('admin:write')}` } });
    expect(reload.status).toBe(200);
    expect(await reload.json()).toMatchObject({ ok: true, swapped: ['versioned'], problems: [] });
    expect(await versionServed(app)).toBe(2);

    writeFileSync(join(dir, 'versioned.ts'), BROKEN);
    const refused = await fetch(`${herald.issuer}/admin/transforms/reload`, { method: 'POST', headers: { authorization: `Bearer ${await token('admin:write')}` } });
    expect(await refused.json()).toMatchObject({ ok: false, swapped: [], keptLastGood: ['versioned'], problems: [expect.stringMatching(/versioned\.ts:4:11 - error TS2322: Type 'string' is not assignable to type 'number'/)] });
    expect(await versionServed(app)).toBe(2);

    const listed = (await (await fetch(`${herald.issuer}/admin/transforms`, { headers: { authorization: `Bearer ${await token('admin:read')}` } })).json()) as any;
    expect(listed.transforms).toEqual([expect.objectContaining({ name: 'versioned', version: expect.stringMatching(/^[0-9a-f]{16}$/) })]);
    expect(listed.problems.versioned).toEqual([expect.stringMatching(/versioned\.ts:4:11/)]);
  });

  test('SIGHUP reloads', async () => {
    writeFileSync(join(dir, 'versioned.ts'), versioned(5));
    // Jest gives test code its own `process` object: a real signal (process.kill) never reaches the
    // handlers registered on it, so the test emits the event those handlers listen to.
    process.emit('SIGHUP', 'SIGHUP');
    await until('version 5', async () => ((await versionServed(app)) === 5 ? true : undefined));
    const events = await herald.audit.find({ type: 'transforms.reloaded' });
    expect(events.at(-1)).toMatchObject({ outcome: 'success', data: expect.objectContaining({ trigger: 'sighup', swapped: ['versioned'] }) });
  });

  test('the admin API needs a Herald token with the right scope', async () => {
    expect((await fetch(`${herald.issuer}/admin/transforms/reload`, { method: 'POST' })).status).toBe(401);
    const readOnly = await fetch(`${herald.issuer}/admin/transforms/reload`, { method: 'POST', headers: { authorization: `Bearer ${await token('admin:read')}` } });
    expect(readOnly.status).toBe(403);
    expect((await fetch(`${herald.issuer}/admin/transforms`)).status).toBe(401);
  });

  test('explain over the admin API: the token Herald would issue and where each claim comes from', async () => {
    const response = await fetch(`${herald.issuer}/admin/transforms/explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('admin:read')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'dev', client: 'web', scopes: 'openid trades', identity: { subject: 'alice' } }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body).toMatchObject({ wouldIssue: true, transforms: { chain: ['versioned'], outcome: 'claims' } });
    expect(body.accessToken).toMatchObject({ iss: herald.issuer, aud: 'https://api.example.com/trading', client_id: 'web', version: 5 });
    expect(body.origins).toMatchObject({ version: expect.stringMatching(/^transform:.*versioned\.ts:4$/), sub: 'herald', aud: 'herald' });

    const bad = await fetch(`${herald.issuer}/admin/transforms/explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('admin:read')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ connector: 'nope', client: 'web', scopes: 'trades', identity: { subject: 'alice' } }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_request', error_description: 'unknown connector "nope"' });
  });
});
