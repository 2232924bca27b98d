/**
 * The cross-device page in a real browser (Debian chromium driven by playwright-core): the QR
 * code as rendered on screen decodes to Herald's request, the wallet answers it from "another
 * device", the page's own script (allowed by the CSP nonce) notices and continues to the app.
 * A screenshot is kept in test/artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { Like } from 'typeorm';
import { FlowStateEntity } from '../../../src/connectors/flow-state.entity.js';
import { startHerald, type TestHerald } from '../../support/herald.js';
import { clientPeer, redeem, startAuthorization, type ClientPeer } from '../../peers/client.js';
import { CLIENT_SECRET, heraldConfig, signedRequests, startWorld, walletConnector, type WalletWorld } from './wallet-world.js';

const ARTIFACTS = resolve('test/artifacts');

describe('cross-device QR page in chromium', () => {
  let world: WalletWorld;
  let herald: TestHerald;
  let client: ClientPeer;
  let browser: Browser;
  let app: Server;
  let REDIRECT = '';

  beforeAll(async () => {
    // The client app's redirect URI, as a real (tiny) server the browser lands on.
    app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('app callback'));
    await new Promise<void>((done) => app.listen(0, '127.0.0.1', done));
    REDIRECT = `http://127.0.0.1:${(app.address() as AddressInfo).port}/app/callback`;
    world = await startWorld();
    world.wallet.store((await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk })).credential);
    herald = await startHerald((issuer) => {
      const config = heraldConfig(issuer, [walletConnector(world, { id: 'wallet', ...signedRequests(world, 'x509_hash', 'post') })]);
      config.clients![0]!.redirectUris = [REDIRECT];
      return config;
    });
    client = await clientPeer(herald.issuer, 'app', CLIENT_SECRET, REDIRECT);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    await world?.stop();
    app?.closeAllConnections();
    await new Promise((done) => app?.close(done));
  });

  test('scan, present on the other device, and the page continues to the app', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 1000 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      // The browser's own favicon probe is not the page's doing.
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) problems.push(`${message.text()} ${message.location().url}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });

    const start = await startAuthorization(client, { scope: 'openid profile age', idp_hint: 'wallet' });
    await page.goto(start.url);
    await page.waitForSelector('#wallet-qr');
    expect(await page.title()).toContain('Sign in with your wallet');
    expect(await page.locator('#wallet-qr').getAttribute('alt')).toBe('QR code of the wallet request');
    await page.screenshot({ path: resolve(ARTIFACTS, 'wallet-cross-device.png'), fullPage: true });

    // What a phone camera sees: the rendered image, decoded.
    const { PNG } = (await import('pngjs')).default as typeof import('pngjs');
    const jsQR = (await import('jsqr')).default as unknown as typeof import('jsqr').default;
    const shot = PNG.sync.read(await page.locator('#wallet-qr').screenshot());
    const decoded = jsQR(new Uint8ClampedArray(shot.data), shot.width, shot.height);
    expect(decoded?.data).toMatch(/^openid4vp:\/\/\?client_id=x509_hash%3A.+&request_uri=.+&request_uri_method=post$/);

    expect(await page.locator('#wallet-restart').isVisible()).toBe(false);
    expect(await page.locator('#wallet-same-device').isVisible()).toBe(true);
    const status = page.locator('#wallet-status');
    await expect(status.textContent()).resolves.toContain('Waiting for your wallet');
    const request = await world.wallet.resolve(decoded!.data);
    const answer = await world.wallet.answer(request);
    expect(answer).toMatchObject({ status: 200, body: {} });

    await page.waitForURL((url) => url.href.startsWith(REDIRECT), { timeout: 15_000 });
    const callback = new URL(page.url());
    const tokens = await redeem(client, callback, start);
    expect(tokens.claims()!.given_name).toBe('Erika');
    expect(problems).toEqual([]);
    await context.close();
  });

  test('when the request expires, the page says so and offers to start again', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 1000 } });
    const page = await context.newPage();
    const start = await startAuthorization(client, { scope: 'openid profile age', idp_hint: 'wallet' });
    await page.goto(start.url);
    await page.waitForSelector('#wallet-qr');
    const flows = herald.dataSource.getRepository(FlowStateEntity);
    for (const row of await flows.find({ where: { key: Like('connector:wallet:tx:%') } })) {
      await flows.save({ ...row, value: { ...row.value, expiresAt: Date.now() - 1000 } });
    }
    await page.locator('#wallet-restart').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#wallet-status').textContent()).toBe('This request has expired.');
    expect(await page.locator('#wallet-qr').isVisible()).toBe(false); // an expired code is not offered for scanning
    await page.screenshot({ path: resolve(ARTIFACTS, 'wallet-expired.png'), fullPage: true });
    // Start again: a new page with a new request, for the same sign-in.
    const oldQr = await page.locator('#wallet-qr').getAttribute('src');
    await page.locator('#wallet-restart a').click();
    await page.waitForSelector('#wallet-qr');
    expect(await page.locator('#wallet-qr').getAttribute('src')).not.toBe(oldQr);
    expect(await page.locator('#wallet-status').textContent()).toContain('Waiting for your wallet');
    await context.close();
  });
});
