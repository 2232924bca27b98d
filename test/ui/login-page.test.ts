/**
 * Herald's login page in a real browser (Debian's Chromium driven by playwright-core): it
 * renders, lists only the connectors the application may use, is keyboard- and screen-reader-
 * friendly, loads nothing it should not (CSP), and a click starts the upstream sign-in, which
 * then completes through the corporate IdP and back to the application.
 * Screenshots land in test/artifacts/ (git-ignored) for a human look.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { TestHerald } from '../support/herald.js';
import { redeem, startAuthorization, type ClientPeer } from '../peers/client.js';
import { ALICE, APP_REDIRECT, APP_SECRET, IDP_SECRET, UpstreamIdp, oidcConnector, reserveHerald, startBroker, webApp } from '../connectors/oidc/oidc-fixtures.js';

const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('login page in Chromium', () => {
  let acme: UpstreamIdp;
  let globex: UpstreamIdp;
  let herald: TestHerald;
  let portal: ClientPeer;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const broker = await reserveHerald();
    const registration = (...ids: string[]) => [{ clientId: 'herald', clientSecret: IDP_SECRET, redirectUris: ids.map(broker.callback) }];
    acme = await UpstreamIdp.start({ name: 'Acme IdP', accounts: { alice: ALICE }, clients: registration('acme') });
    globex = await UpstreamIdp.start({ name: 'Globex IdP', accounts: { alice: ALICE }, clients: registration('globex', 'contractors') });
    herald = await startBroker(
      broker.port,
      [
        oidcConnector('acme', acme, { name: 'Acme Corp' }),
        oidcConnector('globex', globex, { name: 'Globex' }),
        oidcConnector('contractors', globex, { name: 'Contractor Portal' }),
      ],
      {
        clients: [
          { id: 'portal', name: 'Expense Portal', secret: APP_SECRET, redirectUris: [APP_REDIRECT], apis: ['trading'], connectors: ['acme', 'globex'] },
        ] as never,
      },
    );
    portal = await webApp(herald, 'portal');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    await acme?.stop();
    await globex?.stop();
  });

  /** A fresh browser context whose "application" is a stub page at the redirect URI. */
  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 800, height: 720 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.route(`${APP_REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>App</title><h1>Back in the app</h1>' }));
    return { page, problems };
  }

  test('renders the allowed connectors, accessibly and within its CSP', async () => {
    const { page, problems } = await newPage();
    const start = await startAuthorization(portal);
    const response = await page.goto(start.url);
    expect(response!.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Sign in · Herald');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await page.getByRole('main').count()).toBe(1);

    const choices = page.getByRole('list', { name: 'Ways to sign in' }).getByRole('link');
    expect(await choices.count()).toBe(2);
    expect(await choices.nth(0).getAttribute('data-connector')).toBe('acme');
    expect(await page.getByRole('link', { name: 'Sign in with Acme Corp', exact: true }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Sign in with Globex', exact: true }).count()).toBe(1);
    expect(await page.getByText('Contractor Portal').count()).toBe(0);
    expect(await page.getByText('Expense Portal').count()).toBe(1);

    // Keyboard: the first choice is reachable with Tab and shows a focus ring.
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-connector'));
    expect(focused).toBe('acme');
    expect(await page.getByRole('button', { name: 'Cancel and go back' }).count()).toBe(1);

    // Styles come from Herald itself: the stylesheet applied (the card is not unstyled).
    const card = await page.locator('main').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(card).toBe('rgb(255, 255, 255)');
    await page.screenshot({ path: join(ARTIFACTS, 'login-page.png'), fullPage: true });
    // Dark mode follows the system setting.
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await page.locator('main').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(22, 27, 34)');
    await page.screenshot({ path: join(ARTIFACTS, 'login-page-dark.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  test('a click starts the upstream sign-in, which completes back at the application', async () => {
    const { page, problems } = await newPage();
    const start = await startAuthorization(portal);
    await page.goto(start.url);
    await page.getByRole('link', { name: 'Sign in with Acme Corp' }).click();
    await page.waitForURL(`${acme.issuer}/interaction/**`);
    await page.getByRole('heading', { name: 'Acme IdP sign-in' }).waitFor();

    await page.getByLabel('User name').fill('alice');
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click(); // the IdP's consent

    // Herald's consent page for this third-party application.
    await page.waitForURL(`${herald.issuer}/interaction/**`);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'consent-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${APP_REDIRECT}**`);
    const tokens = await redeem(portal, new URL(page.url()), start);
    expect(tokens.claims()!.email).toBe('alice@acme.test');
    expect(problems).toEqual([]);
  });

  test('a refused sign-in shows a clear page that leads back to the application', async () => {
    const { page } = await newPage();
    const start = await startAuthorization(portal, { idp_hint: 'globex' });
    await page.goto(start.url);
    await page.waitForURL(`${globex.issuer}/interaction/**`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
    expect(await page.getByRole('alert').innerText()).toContain('cancelled or refused');
    await page.screenshot({ path: join(ARTIFACTS, 'failure-page.png'), fullPage: true });
    await page.getByRole('link', { name: 'Return to Expense Portal' }).click();
    await page.waitForURL(`${APP_REDIRECT}**`);
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied');
  });
});
