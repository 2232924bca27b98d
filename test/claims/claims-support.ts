/**
 * Sign-ins for the claims suites through the dev connector (development mode): the browser walks
 * app → Herald /authorize → dev form (the upstream claims) → Herald → app callback, and the app
 * redeems the code with openid-client.
 */
import { TestBrowser } from '../support/browser.js';
import { browseToCallback, redeem, startAuthorization, type ClientPeer } from '../peers/client.js';

export interface DevSignIn {
  callback?: URL;
  /** The page the browser ended on when it did not reach the app (e.g. an error page). */
  status: number;
  body: string;
  redeem(): ReturnType<typeof redeem>;
}

export async function devSignIn(app: ClientPeer, claims: Record<string, unknown>, params: Record<string, string> = {}): Promise<DevSignIn> {
  const browser = new TestBrowser();
  const start = await startAuthorization(app, params);
  const form = await browser.go(start.url);
  if (!form.body.includes('/connectors/dev/submit')) throw new Error(`expected the dev sign-in form, got ${form.status} at ${form.url}:\n${form.body.slice(0, 800)}`);
  let callback: URL | undefined;
  const done = await browser.submit(form, { claims: JSON.stringify(claims) }, { action: '/connectors/dev/submit' }, (url) => {
    if (url.startsWith(app.redirectUri)) {
      callback = new URL(url);
      return true;
    }
    return false;
  });
  return {
    callback,
    status: done.status,
    body: done.body,
    redeem: () => {
      if (!callback) throw new Error(`the sign-in did not reach the app: ${done.status} ${done.body.slice(0, 500)}`);
      return redeem(app, callback, start);
    },
  };
}
