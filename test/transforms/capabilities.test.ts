/**
 * What configuration grants a transform, end to end: http.getJson to an allow-listed API with a
 * named secret and a response cache, log lines in the audit trail, account attribute updates, and
 * the risk hook (transform scores, a risk endpoint, thresholds allow / step-up / deny). A granted
 * secret never leaves the sandbox: not in a deny reason, a thrown error or a failed request's URL.
 */
import { createServer, type Server } from 'node:http';
import { decodeJwt } from 'jose';
import type { TestHerald } from '../support/herald.js';
import { baseConfig, startHerald } from '../support/herald.js';
import { freePort } from '../support/ports.js';
import { clientPeer, oidc, redeem, type ClientPeer } from '../peers/client.js';
import { UsersRepository } from '../../src/users/users.repository.js';
import { devSignIn, transformsDir } from './transforms-support.js';

const SECRET = 'web-app-secret-0123456789abcdef-0123456789';
const REDIRECT = 'http://127.0.0.1:9/app/callback';
const CRM_TOKEN = 'crm-token-s3cr3t-0123456789';
const OPS_SECRET = 'ops-secret-0123456789abcdef-0123456789abcd';

const head = `import { defineTransform, strings } from '@herald/transform';\n`;
const SOURCES = {
  crm: `${head}interface Crm { tier: string; desks: string[] }
export default defineTransform({
  async run({ upstream }, ctx) {
    const crm = await ctx.http.getJson<Crm>(\`\${upstream.attributes.crm as string}/users/\${encodeURIComponent(upstream.subject)}\`, {
      cacheTtlSeconds: 60,
      headers: { authorization: \`Bearer \${ctx.secrets.get('crm_token')}\` },
    });
    ctx.log('crm lookup', { tier: crm.tier, sent: ctx.secrets.get('crm_token') });
    return { claims: { tier: crm.tier, desks: crm.desks } };
  },
});
`,
  'leak-secret': `${head}export default defineTransform({
  run(_input, ctx) {
    return { claims: { tier: 'x' + ctx.secrets.get('crm_token') } };
  },
});
`,
  'other-secret': `${head}export default defineTransform({
  run(_input, ctx) {
    return { claims: { tier: ctx.secrets.get('crm_token') } };
  },
});
`,
  'deny-secret': `${head}export default defineTransform({
  run(_input, ctx) {
    return { deny: 'CRM refused ' + ctx.secrets.get('crm_token') };
  },
});
`,
  'throw-secret': `${head}export default defineTransform({
  run({ upstream }, ctx) {
    // pad: puts the secret across the sandbox's 1000-character cut of error messages
    throw new Error('x'.repeat((upstream.attributes.pad as number) ?? 0) + 'CRM refused ' + ctx.secrets.get('crm_token'));
  },
});
`,
  'url-secret': `${head}export default defineTransform({
  async run(_input, ctx) {
    try {
      await ctx.http.getJson('https://not-allowed.example/lookup?key=' + ctx.secrets.get('crm_token'));
    } catch (error) {
      ctx.log('crm lookup failed', { error: String(error) });
      throw error;
    }
    return { claims: {} };
  },
});
`,
  'desk-updates': `${head}export default defineTransform({
  run({ upstream, account }) {
    const desk = strings(upstream.attributes.desk)[0];
    return {
      claims: { desk: desk ?? null, previous_desk: account.custom.homeDesk ?? null },
      accountUpdates: desk === 'forbidden' ? { userName: 'admin' } : desk === 'not-allowed' ? { costCenter: 'x' } : { homeDesk: desk ?? null },
    };
  },
});
`,
  risky: `${head}export default defineTransform({
  run({ upstream }) {
    const score = upstream.attributes.risk as number;
    return { claims: { checked: true }, risk: { score, reasons: score > 50 ? ['new device'] : [] } };
  },
});
`,
};

describe('transform capabilities and the risk hook', () => {
  let herald: TestHerald;
  let app: ClientPeer;
  let crm: Server;
  let risk: Server;
  const crmRequests: Array<{ url: string; authorization?: string }> = [];
  const riskRequests: Array<Record<string, any>> = [];

  beforeAll(async () => {
    const crmPort = await freePort();
    crm = createServer((req, res) => {
      crmRequests.push({ url: req.url!, authorization: req.headers.authorization });
      if (req.headers.authorization !== `Bearer ${CRM_TOKEN}`) return res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tier: 'gold', desks: ['eu'] }));
    });
    await new Promise<void>((resolve) => crm.listen(crmPort, '127.0.0.1', resolve));
    const riskPort = await freePort();
    risk = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const request = JSON.parse(body);
        riskRequests.push(request);
        const verdict = request.identity.attributes.endpoint;
        if (verdict === 'broken') return res.writeHead(500).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score: typeof verdict === 'number' ? verdict : 0 }));
      });
    });
    await new Promise<void>((resolve) => risk.listen(riskPort, '127.0.0.1', resolve));

    const crmUrl = `http://127.0.0.1:${crmPort}`;
    const dev = (id: string, transforms: string[], samples: Record<string, Record<string, unknown>>) => ({ type: 'dev' as const, id, name: id, transforms, samples });
    const user = (sub: string, extra: Record<string, unknown> = {}) => ({ sub, email: `${sub}@example.com`, email_verified: true, ...extra });
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      scopes: { trades: { claims: ['tier', 'desks', 'desk', 'previous_desk', 'checked'] } },
      clients: [
        { id: 'web', secret: SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true },
        { id: 'ops', secret: OPS_SECRET, grantTypes: ['client_credentials'], apis: ['admin'] },
      ],
      connectors: [
        dev('deny-secret', ['deny-secret'], { alice: user('alice') }),
        dev('throw-secret', ['throw-secret'], { alice: user('alice'), padded: user('padded', { pad: 983 }) }),
        dev('url-secret', ['url-secret'], { alice: user('alice') }),
        dev('crm', ['crm'], { alice: user('alice', { crm: crmUrl }) }),
        dev('leak', ['leak-secret'], { alice: user('alice') }),
        dev('other', ['other-secret'], { alice: user('alice') }),
        dev('desks', ['desk-updates'], { eu: user('dora', { desk: 'eu' }), us: user('dora', { desk: 'us' }), forbidden: user('eve', { desk: 'forbidden' }), unknown: user('eve', { desk: 'not-allowed' }) }),
        dev('risky', ['risky'], {
          calm: user('calm', { risk: 10 }),
          shaky: user('shaky', { risk: 60 }),
          wild: user('wild', { risk: 95 }),
          flagged: user('flagged', { risk: 0, endpoint: 92 }),
          unreachable: user('unreachable', { risk: 0, endpoint: 'broken' }),
        }),
      ],
      scim: { extension: { attributes: { homeDesk: 'string', costCenter: 'string' } } },
      transforms: {
        directory: transformsDir(SOURCES),
        secrets: { crm_token: CRM_TOKEN },
        grants: {
          crm: { secrets: ['crm_token'], allowedOrigins: [crmUrl] },
          'leak-secret': { secrets: ['crm_token'] },
          'deny-secret': { secrets: ['crm_token'] },
          'throw-secret': { secrets: ['crm_token'] },
          'url-secret': { secrets: ['crm_token'] },
        },
        accountUpdates: { allow: ['homeDesk'] },
        risk: { endpoint: `http://127.0.0.1:${riskPort}/score`, stepUpAt: 50, denyAt: 90, authorization: 'Bearer risk-api-key-0123456789' },
      },
    }));
    app = await clientPeer(herald.issuer, 'web', SECRET, REDIRECT);
  });
  afterAll(async () => {
    await herald?.stop();
    await new Promise<void>((resolve) => crm?.close(() => resolve()));
    await new Promise<void>((resolve) => risk?.close(() => resolve()));
  });

  async function claimsOf(connector: string, sample: string) {
    const signIn = await devSignIn(app, connector, sample);
    expect(signIn.callback?.searchParams.get('code')).toEqual(expect.any(String));
    return decodeJwt((await redeem(app, signIn.callback!, signIn.start)).access_token);
  }

  test('http.getJson reaches an allow-listed API with a granted secret; answers are cached', async () => {
    crmRequests.length = 0;
    expect(await claimsOf('crm', 'alice')).toMatchObject({ tier: 'gold', desks: ['eu'] });
    expect(await claimsOf('crm', 'alice')).toMatchObject({ tier: 'gold' });
    expect(crmRequests).toEqual([{ url: '/users/alice', authorization: `Bearer ${CRM_TOKEN}` }]); // the second sign-in was served from the cache
  });

  test('log() lands in the audit trail as transform.logged, with secret values masked', async () => {
    await claimsOf('crm', 'alice');
    const logged = (await herald.audit.find({ type: 'transform.logged' })).filter((e) => e.connectorId === 'crm').at(-1);
    expect(logged?.data).toMatchObject({ transform: 'crm', message: 'crm lookup', data: { tier: 'gold', sent: '[secret]' } });
    const everything = JSON.stringify(await herald.audit.find());
    expect(everything).not.toContain(CRM_TOKEN);
  });

  test('a secret in the output is refused, and a secret not granted cannot be read', async () => {
    expect((await devSignIn(app, 'leak', 'alice')).page.status).toBe(403);
    expect((await devSignIn(app, 'other', 'alice')).page.status).toBe(403);
    const failures = await herald.audit.find({ type: 'transform.failed' });
    expect(failures.find((e) => e.connectorId === 'leak')?.data).toMatchObject({ kind: 'invalid_output', message: 'result contains the value of a secret' });
    expect(failures.find((e) => e.connectorId === 'other')?.data).toMatchObject({ kind: 'error', message: 'secret "crm_token" is not granted to this transform' });
    expect(JSON.stringify(failures)).not.toContain(CRM_TOKEN);
  });

  describe('a secret in a deny reason, a thrown error or a failed request never leaves the sandbox', () => {
    const eventsOf = async (connectorId: string) => (await herald.audit.find()).filter((e) => e.connectorId === connectorId);
    const explain = async (connector: string, identity: Record<string, unknown> = { subject: 'alice' }) => {
      const ops = await clientPeer(herald.issuer, 'ops', OPS_SECRET);
      const token = (await oidc.clientCredentialsGrant(ops.config, { scope: 'admin:read' })).access_token;
      const response = await fetch(`${herald.issuer}/admin/transforms/explain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ connector, client: 'web', scopes: 'openid trades', identity }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as any;
    };

    test('deny reason: login.denied and explain show [secret]', async () => {
      expect((await devSignIn(app, 'deny-secret', 'alice')).page.status).toBe(403);
      const events = await eventsOf('deny-secret');
      expect(events.find((e) => e.type === 'login.denied')?.data).toEqual({ transform: 'deny-secret', message: 'CRM refused [secret]' });
      const body = await explain('deny-secret');
      expect(body.transforms.detail).toEqual({ transform: 'deny-secret', reason: 'CRM refused [secret]' });
      expect(JSON.stringify([events, body])).not.toContain(CRM_TOKEN);
    });

    test('thrown error: transform.failed and explain show [secret], also when the message is cut inside it', async () => {
      expect((await devSignIn(app, 'throw-secret', 'alice')).page.status).toBe(403);
      expect((await devSignIn(app, 'throw-secret', 'padded')).page.status).toBe(403);
      const failed = (await eventsOf('throw-secret')).filter((e) => e.type === 'transform.failed');
      expect(failed.map((e) => e.data?.message)).toEqual(['CRM refused [secret]', expect.stringMatching(/^x+…$/)]); // the audit trail keeps 512 characters
      const body = await explain('throw-secret');
      expect(body.transforms.detail).toMatchObject({ reason: 'error', message: 'CRM refused [secret]' });
      expect(body.problems).toContain('transform throw-secret failed: CRM refused [secret]');
      // The sandbox cuts messages at 1000 characters: here after "crm-t"; that beginning goes too.
      const padded = await explain('throw-secret', { subject: 'padded', attributes: { pad: 983 } });
      expect(padded.transforms.detail.message).toBe(`${'x'.repeat(983)}CRM refused …`);
      expect(JSON.stringify([failed, body, padded])).not.toMatch(/crm-t/);
    });

    test('http.getJson URL: the error, the log line of the caught error and explain show [secret]', async () => {
      expect((await devSignIn(app, 'url-secret', 'alice')).page.status).toBe(403);
      const events = await eventsOf('url-secret');
      const expected = 'http.getJson(https://not-allowed.example/lookup?key=[secret]): origin https://not-allowed.example is not allow-listed for this transform';
      expect(events.find((e) => e.type === 'transform.failed')?.data).toMatchObject({ kind: 'error', message: expected });
      expect(events.find((e) => e.type === 'transform.logged')?.data).toEqual({ transform: 'url-secret', message: 'crm lookup failed', data: { error: `Error: ${expected}` } });
      const body = await explain('url-secret');
      expect(body.transforms).toMatchObject({ detail: { message: expected }, logs: [{ transform: 'url-secret', data: { error: `Error: ${expected}` } }] });
      expect(JSON.stringify([events, body])).not.toContain(CRM_TOKEN);
    });
  });

  test('account updates are stored on the account, audited, and visible to the next run', async () => {
    expect(await claimsOf('desks', 'eu')).toMatchObject({ desk: 'eu', previous_desk: null });
    const users = new UsersRepository(herald.dataSource);
    const link = await users.findLink('desks', 'dora');
    expect((await users.findById(link!.userId))?.custom).toMatchObject({ homeDesk: 'eu' });
    expect(await claimsOf('desks', 'us')).toMatchObject({ desk: 'us', previous_desk: 'eu' });
    expect((await users.findById(link!.userId))?.custom).toMatchObject({ homeDesk: 'us' });
    const updated = (await herald.audit.find({ type: 'user.updated' })).filter((e) => e.userId === link!.userId);
    expect(updated.at(-1)?.data).toMatchObject({ via: 'transform', transforms: ['desk-updates'], attributes: ['homeDesk'] });
  });

  test('account updates of reserved or not allowed attributes fail the sign-in and change nothing', async () => {
    expect((await devSignIn(app, 'desks', 'forbidden')).page.status).toBe(403);
    expect((await devSignIn(app, 'desks', 'unknown')).page.status).toBe(403);
    const failures = (await herald.audit.find({ type: 'transform.failed' })).filter((e) => e.connectorId === 'desks');
    expect(failures.map((e) => e.data?.message)).toEqual([
      expect.stringContaining('"userName" is maintained by Herald or SCIM'),
      expect.stringContaining('transforms may not update "costCenter"'),
    ]);
    const eve = await new UsersRepository(herald.dataSource).findLink('desks', 'eve');
    const account = await new UsersRepository(herald.dataSource).findById(eve!.userId);
    expect(account?.userName).not.toBe('admin');
    expect(account?.custom).toEqual({});
  });

  test('risk: a low score is allowed, and the evaluation is audited', async () => {
    expect(await claimsOf('risky', 'calm')).toMatchObject({ checked: true });
    const event = (await herald.audit.find({ type: 'risk.evaluated' })).at(-1);
    expect(event).toMatchObject({ outcome: 'success', connectorId: 'risky' });
    expect(event?.data).toMatchObject({ decision: 'allow', score: 10, transformScore: 10, endpointScore: 0, thresholds: { stepUpAt: 50, denyAt: 90 } });
    // The endpoint received the identity and the claims, with its credential.
    expect(riskRequests.at(-1)).toMatchObject({ user_id: expect.any(String), client_id: 'web', connector_id: 'risky', transform_score: 10, claims: { checked: true }, identity: { subject: 'calm' } });
  });

  test('risk: a score over stepUpAt without a second factor upstream asks for step-up (refused for now)', async () => {
    const signIn = await devSignIn(app, 'risky', 'shaky');
    expect(signIn.page.status).toBe(403);
    expect(signIn.page.body).toContain('additional verification');
    const denied = (await herald.audit.find({ type: 'login.denied' })).at(-1);
    expect(denied).toMatchObject({ reason: 'risk_step_up_required', connectorId: 'risky' });
    expect((await herald.audit.find({ type: 'risk.evaluated' })).at(-1)?.data).toMatchObject({ decision: 'step_up', score: 60, reasons: ['new device'] });
  });

  test('risk: a score over denyAt — from the transform or from the endpoint — denies', async () => {
    expect((await devSignIn(app, 'risky', 'wild')).page.status).toBe(403);
    expect((await herald.audit.find({ type: 'risk.evaluated' })).at(-1)?.data).toMatchObject({ decision: 'deny', score: 95, transformScore: 95 });
    expect((await devSignIn(app, 'risky', 'flagged')).page.status).toBe(403);
    expect((await herald.audit.find({ type: 'risk.evaluated' })).at(-1)?.data).toMatchObject({ decision: 'deny', score: 92, transformScore: 0, endpointScore: 92 });
    const denials = (await herald.audit.find({ type: 'login.denied' })).slice(-2);
    expect(denials.map((e) => e.reason)).toEqual(['risk_denied', 'risk_denied']);
  });

  test('risk: a failing risk endpoint denies (fail closed by default)', async () => {
    expect((await devSignIn(app, 'risky', 'unreachable')).page.status).toBe(403);
    expect((await herald.audit.find({ type: 'risk.evaluated' })).at(-1)?.data).toMatchObject({ decision: 'deny', endpointError: 'HTTP 500' });
  });
});
