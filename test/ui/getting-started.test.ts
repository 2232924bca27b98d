/**
 * What docs/getting-started.md promises a newcomer: the shipped config/herald.yaml (what
 * `npm start` runs) starts Herald in development mode, and its /demo page signs in through the
 * dev connector and shows the tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.loader.js';
import { createHerald, type HeraldInstance } from '../../src/server.js';
import { TestBrowser } from '../support/browser.js';
import { freePort } from '../support/ports.js';

describe('getting started with the shipped demo configuration', () => {
  let herald: HeraldInstance;
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    const port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-start-'));
    const loaded = loadConfig({ dir: 'config', env: { PORT: String(port), DATABASE_URL: `sqlite:${join(dataDir, 'herald.sqlite')}` } });
    loaded.config.audit.log = false;
    herald = await createHerald(loaded, { port, host: '127.0.0.1', quiet: true, logLevels: ['error'] });
    base = `http://localhost:${port}`;
    expect(loaded.config.issuer).toBe(base);
  });
  afterAll(async () => {
    await herald?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('/demo → dev connector → decoded tokens', async () => {
    const browser = new TestBrowser();
    const home = await browser.go(`${base}/demo`);
    expect(home.status).toBe(200);
    const login = await browser.go(`${base}/demo/login`);
    expect(login.body).toContain('Development sign-in');
    const done = await browser.submit(login, { sample: 'alice' }, { action: '/connectors/dev/submit' });
    expect(done.url).toMatch(new RegExp(`^${base}/demo/callback\\?`));
    expect(done.body).toContain('Signed in');
    expect(done.body).toContain('alice@example.com');
    expect(done.body).toContain('signature verified with Herald');
  });
});
