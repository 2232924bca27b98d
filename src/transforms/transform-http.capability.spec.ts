/** ctx.http.getJson on the host: what it refuses before and after connecting. */
import { createServer, type Server } from 'node:http';
import { FetchHttpCapability, FixtureHttpCapability, type RunState } from './transform-http.capability.js';

describe('http.getJson capability', () => {
  let server: Server;
  let origin: string;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url!);
      if (req.url === '/redirect') return res.writeHead(302, { location: 'http://evil.example/' }).end();
      if (req.url === '/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>');
      if (req.url === '/huge') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ blob: 'x'.repeat(5000) }));
      if (req.url === '/missing') return res.writeHead(404).end();
      if (req.url === '/echo') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ headers: req.headers }));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"ok":1}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const http = () => new FetchHttpCapability({ allowedOrigins: [origin], timeoutMs: 1000, maxResponseBytes: 1024, cacheTtlSeconds: 0, maxCacheTtlSeconds: 60 });
  const run = (): RunState => ({ deadline: Date.now() + 2000, httpCalls: 0, signal: new AbortController().signal });
  const call = async (url: string, options: unknown = {}, state: RunState | null = run(), capability = http()) => JSON.parse(await capability.getJson(state, url, JSON.stringify(options)));

  test('GETs JSON from an allow-listed origin', async () => {
    expect(await call(`${origin}/data`)).toEqual({ ok: true, body: { ok: 1 } });
  });

  // `@` stands for the allow-listed origin (only known once the server listens).
  test.each([
    ['another origin', 'http://127.0.0.2:1/x', {}, /origin http:\/\/127\.0\.0\.2:1 is not allow-listed/, false],
    ['credentials in the URL', 'http://user:pw@127.0.0.1:1/x', {}, /credentials in the URL/, false],
    ['a non-http scheme', 'file:///etc/passwd', {}, /only http\(s\) URLs/, false],
    ['a Host header', '@/x', { headers: { host: 'evil.example' } }, /header "host" is not allowed/, false],
    ['a header with CR/LF', '@/x', { headers: { 'x-a': 'a\r\nx-b: b' } }, /has an invalid value/, false],
    ['a redirect', '@/redirect', {}, /redirect \(302\) refused/, true],
    ['a non-JSON answer', '@/html', {}, /content-type text\/html is not JSON/, true],
    ['a body over the cap', '@/huge', {}, /exceeds 1024/, true],
    ['an error status', '@/missing', {}, /HTTP 404/, true],
  ])('refuses %s', async (_label, url, options, message, connects) => {
    const before = hits.length;
    const answer = await call(url.replace(/^@/, origin), options);
    expect(answer.ok).toBe(false);
    expect(answer.error).toMatch(message);
    expect(hits.length - before).toBe(connects ? 1 : 0);
  });

  test('refuses calls outside a run and beyond five per run', async () => {
    expect(await call(`${origin}/x`, {}, null)).toMatchObject({ ok: false, error: expect.stringMatching(/only available while run\(\) is executing/) });
    const state = run();
    const capability = http();
    for (let i = 0; i < 5; i++) expect((await call(`${origin}/x`, {}, state, capability)).ok).toBe(true);
    expect(await call(`${origin}/x`, {}, state, capability)).toMatchObject({ ok: false, error: 'more than 5 requests in one run' });
  });

  test('caches for the asked TTL, capped by configuration, keyed by URL and headers', async () => {
    const capability = http();
    const before = hits.length;
    await call(`${origin}/cached`, { cacheTtlSeconds: 3600 }, run(), capability);
    await call(`${origin}/cached`, { cacheTtlSeconds: 3600 }, run(), capability);
    await call(`${origin}/cached`, { cacheTtlSeconds: 3600, headers: { 'x-user': 'b' } }, run(), capability);
    expect(hits.length - before).toBe(2);
    expect(capability.stats.cacheHits).toBe(1);
  });

  test('fixture answers by exact URL; unknown URLs and error statuses throw in the transform', async () => {
    const fixture = new FixtureHttpCapability({ 'https://crm.example/u/1': { tier: 'gold' }, 'https://crm.example/u/2': { status: 503 } });
    expect(JSON.parse(await fixture.getJson(run(), 'https://crm.example/u/1', '{}'))).toEqual({ ok: true, body: { tier: 'gold' } });
    expect(JSON.parse(await fixture.getJson(run(), 'https://crm.example/u/2', '{}'))).toEqual({ ok: false, error: 'HTTP 503' });
    expect(JSON.parse(await fixture.getJson(run(), 'https://crm.example/u/3', '{}'))).toEqual({ ok: false, error: 'no fixture response for https://crm.example/u/3' });
  });
});
