/**
 * The development-only demo application at /demo: it signs in through Herald itself with
 * openid-client and shows the decoded tokens, escaped and without script; outside development
 * mode it does not exist.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { TestBrowser } from '../support/browser.js';

const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const DEMO_SECRET = 'demo-secret-for-tests-0123456789abcdef';
const MARKUP_NAME = '<img src=x onerror=alert(1)> Alice';

describe('demo app at /demo', () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [{ id: 'demo', name: 'Herald demo app', secret: DEMO_SECRET, redirectUris: [`${issuer}/demo/callback`], apis: ['trading'], firstParty: true }],
      connectors: [
        {
          type: 'dev',
          id: 'dev',
          name: 'Developer sign-in',
          samples: { alice: { sub: 'alice-1', email: 'alice@example.com', email_verified: true, name: MARKUP_NAME, given_name: 'Alice' } },
        },
      ],
    }));
  });
  afterAll(() => herald?.stop());

  async function signInThroughDemo(browser: TestBrowser) {
    const form = await browser.go(`${herald.issuer}/demo/login`);
    expect(form.url).toMatch(new RegExp(`^${herald.issuer}/interaction/`));
    return browser.submit(form, { sample: 'alice' }, { action: '/connectors/dev/submit' });
  }

  test('the home page explains the demo and links to the sign-in', async () => {
    const page = await new TestBrowser().go(`${herald.issuer}/demo`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Herald demo app');
    expect(page.body).toContain(`${herald.issuer}/demo/callback`);
    expect(page.body).toContain('href="/demo/login"');
  });

  test('a sign-in through Herald ends on a page with the decoded ID and access tokens', async () => {
    const page = await signInThroughDemo(new TestBrowser());
    expect(page.url).toMatch(new RegExp(`^${herald.issuer}/demo/callback\\?`));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Signed in');
    expect(page.body).toContain('&quot;email&quot;: &quot;alice@example.com&quot;');
    expect(page.body).toContain('&quot;aud&quot;: &quot;https://api.example.com/trading&quot;');
    expect(page.body).toContain('&quot;typ&quot;: &quot;at+jwt&quot;');
    expect(page.body).toContain('signature verified with Herald');
    // Upstream values are data, never markup; the page runs no script at all.
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt; Alice');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'none'");
    expect(page.body).not.toMatch(/<script/i);
    // The raw tokens themselves are not shown.
    expect(page.body).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });

  test('a callback this browser did not start, or a replayed one, is refused politely', async () => {
    const browser = new TestBrowser();
    const done = await signInThroughDemo(browser);
    const replay = await browser.go(done.url);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('did not start a demo sign-in');
    const stranger = await new TestBrowser().go(done.url);
    expect(stranger.status).toBe(400);
  });

  test('an error from Herald is shown, escaped', async () => {
    const page = await new TestBrowser().go(`${herald.issuer}/demo/callback?error=access_denied&error_description=${encodeURIComponent('<b>no</b>')}`);
    expect(page.body).toContain('error=access_denied');
    expect(page.body).toContain('&lt;b&gt;no&lt;/b&gt;');
  });

  test('looks right in Chromium', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      const errors: string[] = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await page.goto(`${herald.issuer}/demo`);
      await page.getByRole('link', { name: 'Sign in through Herald' }).click();
      await page.getByLabel('Saved sample').selectOption('alice');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Signed in' }).waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('demo app outside development mode', () => {
  let herald: TestHerald;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      mode: 'production',
      clients: [{ id: 'demo', secret: DEMO_SECRET, redirectUris: [`${issuer}/demo/callback`], apis: ['trading'] }],
    }));
  });
  afterAll(() => herald?.stop());

  test.each(['/demo', '/demo/login', '/demo/callback?code=x&state=y'])('%s does not exist', async (path) => {
    const response = await fetch(`${herald.issuer}${path}`, { redirect: 'manual' });
    expect(response.status).toBe(404);
  });
});
