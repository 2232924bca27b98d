/**
 * A client restricted to some connectors (`clients[].connectors`) gets tokens only from a
 * session that signed in through one of them: single sign-on from a session established
 * through another connector makes the user sign in again, whoever the account is.
 */
import { decodeJwt } from 'jose';
import { baseConfig, startHerald, type TestHerald } from '../support/herald.js';
import { TestBrowser } from '../support/browser.js';
import { browseToCallback, clientPeer, redeem, startAuthorization, type ClientPeer } from '../peers/client.js';

const SECRET = 'sso-secret-0123456789abcdef-0123456789ab';
const REDIRECT = 'http://127.0.0.1:9/app/callback';

describe('connector restrictions across single sign-on', () => {
  let herald: TestHerald;
  let open: ClientPeer;
  let corpOnly: ClientPeer;

  beforeAll(async () => {
    herald = await startHerald((issuer) => ({
      ...baseConfig(issuer),
      clients: [
        { id: 'open', secret: SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true },
        { id: 'corp-only', secret: SECRET, redirectUris: [REDIRECT], apis: ['trading'], firstParty: true, connectors: ['corp'] },
      ],
      connectors: [
        { type: 'dev' as const, id: 'partner', name: 'Partner', samples: { pat: { sub: 'p-pat', email: 'pat@partner.example', email_verified: true } } as Record<string, Record<string, unknown>> },
        { type: 'dev' as const, id: 'corp', name: 'Corp', samples: { ceo: { sub: 'corp-ceo', email: 'ceo@corp.example', email_verified: true } } as Record<string, Record<string, unknown>> },
      ],
      accountLinking: { byExternalId: ['partner', 'corp'] },
    }));
    open = await clientPeer(herald.issuer, 'open', SECRET, REDIRECT);
    corpOnly = await clientPeer(herald.issuer, 'corp-only', SECRET, REDIRECT);
  });
  afterAll(() => herald?.stop());

  async function signIn(browser: TestBrowser, peer: ClientPeer, connector: string, sample: string) {
    const start = await startAuthorization(peer, { scope: 'openid', idp_hint: connector });
    const { page } = await browseToCallback(browser, start.url, REDIRECT);
    const done = await browser.submit(page, { sample }, { action: `/connectors/${connector}/submit` }, (next) => next.startsWith(REDIRECT));
    return decodeJwt((await redeem(peer, new URL(done.hops.at(-1)!.location!, done.hops.at(-1)!.url), start)).id_token!);
  }

  test('a session from another connector must sign in again for the restricted client', async () => {
    const browser = new TestBrowser();
    await signIn(browser, open, 'partner', 'pat');
    // SSO towards the corp-only client does not ride on the partner session: the login step comes back.
    const start = await startAuthorization(corpOnly, { scope: 'openid' });
    const { callback, page } = await browseToCallback(browser, start.url, REDIRECT);
    expect(callback).toBeUndefined();
    expect(page.body).toContain('/connectors/corp/submit');
    // prompt=none cannot skip it either.
    const silent = await startAuthorization(corpOnly, { scope: 'openid', prompt: 'none' });
    const { callback: silentCallback } = await browseToCallback(browser, silent.url, REDIRECT);
    expect(silentCallback?.searchParams.get('error')).toBe('login_required');
  });

  test('a session from an allowed connector keeps single sign-on', async () => {
    const browser = new TestBrowser();
    const first = await signIn(browser, open, 'corp', 'ceo');
    const start = await startAuthorization(corpOnly, { scope: 'openid' });
    const { callback } = await browseToCallback(browser, start.url, REDIRECT);
    expect(callback?.searchParams.get('code')).toBeTruthy();
    expect(decodeJwt((await redeem(corpOnly, callback!, start)).id_token!).sub).toBe(first.sub);
  });
});
