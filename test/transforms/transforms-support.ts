/**
 * Helpers of the transform suites: transform directories written from source strings (hostile
 * transforms cannot live in the repository as .ts files: the project's own tsc checks those),
 * and sign-ins through the dev connector (the login step picks a connector with idp_hint).
 */
import { copyFileSync, mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TestBrowser, findForm, findLink, type BrowserResponse } from '../support/browser.js';
import { startAuthorization, type AuthorizationStart, type ClientPeer } from '../peers/client.js';
import type { TestHerald } from '../support/herald.js';
import { TRANSFORM_ENGINE } from '../../src/transforms/transforms.module.js';
import type { TransformEngine } from '../../src/transforms/transform-engine.js';

export const SHIPPED = resolve('transforms');

/** A fresh transforms directory with `files` (name → source) and copies of shipped transforms. */
export function transformsDir(files: Record<string, string>, shipped: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-transforms-'));
  for (const name of shipped) {
    copyFileSync(join(SHIPPED, `${name}.ts`), join(dir, `${name}.ts`));
    try {
      copyFileSync(join(SHIPPED, `${name}.fixtures.yaml`), join(dir, `${name}.fixtures.yaml`));
    } catch {
      /* no fixtures */
    }
  }
  for (const [file, source] of Object.entries(files)) {
    const path = join(dir, file.includes('.') ? file : `${file}.ts`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, source);
  }
  return dir;
}

export interface DevSignIn {
  start: AuthorizationStart;
  /** The client callback when the sign-in went through, else undefined (a failure page). */
  callback?: URL;
  page: BrowserResponse;
  ms: number;
}

/**
 * app → /authorize (idp_hint = connector) → dev form → submit `sample` → continue → app callback.
 * Stops at the app's redirect URI, or returns the page where the browser ended (failure page).
 */
export async function devSignIn(app: ClientPeer, connectorId: string, sample: string, options: { scope?: string; browser?: TestBrowser } = {}): Promise<DevSignIn> {
  const t0 = performance.now();
  const browser = options.browser ?? new TestBrowser();
  const start = await startAuthorization(app, { scope: options.scope ?? 'openid trades', idp_hint: connectorId });
  let callback: URL | undefined;
  const stop = (url: string) => {
    if (url.startsWith(app.redirectUri)) {
      callback = new URL(url);
      return true;
    }
    return false;
  };
  const form = await browser.go(start.url, {}, stop);
  if (callback) return { start, callback, page: form, ms: performance.now() - t0 };
  findForm(form.body, { action: `/connectors/${connectorId}/submit` });
  const page = await browser.submit(form, { sample }, { action: `/connectors/${connectorId}/submit` }, stop);
  return { start, callback, page, ms: performance.now() - t0 };
}

/** Follows the "Return to the application" link of a failure page to the client callback. */
export async function followFailure(browser: TestBrowser, page: BrowserResponse, app: ClientPeer): Promise<URL> {
  let callback: URL | undefined;
  await browser.go(new URL(findLink(page.body, /\/authorize\//), page.url).href, {}, (url) => {
    if (url.startsWith(app.redirectUri)) callback = new URL(url);
    return !!callback;
  });
  if (!callback) throw new Error('the failure page did not lead back to the client');
  return callback;
}

export function engineOf(herald: TestHerald): TransformEngine {
  return herald.app.get(TRANSFORM_ENGINE);
}

/** Runs of a transform served by the current runtime (proves whether a transform ran). */
export function runsOf(herald: TestHerald, name: string): number {
  return engineOf(herald).registry.get(name)?.runtime.stats.runs ?? 0;
}
