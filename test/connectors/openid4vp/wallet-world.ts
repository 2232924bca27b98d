/**
 * Shared set-up for the wallet suites: PKI, credential issuers (inline JWKS, JWKS URL, x5c), a
 * status list server, the scripted wallet, a Herald config with openid4vp connectors, and helpers
 * that drive a whole sign-in: client app → Herald → wallet → Herald → client app.
 */
import type { HeraldConfigInput } from '../../../src/config/config.schema.js';
import { baseConfig, type TestHerald } from '../../support/herald.js';
import { TestBrowser, findLink, type BrowserResponse } from '../../support/browser.js';
import { browseToCallback, redeem, startAuthorization, type AuthorizationStart, type ClientPeer } from '../../peers/client.js';
import { makeCa, makeLeaf, type TestCa, type TestLeaf } from '../../peers/wallet-pki.js';
import { SdJwtIssuer, PID_VCT } from '../../peers/sd-jwt-issuer.js';
import { StatusListServer } from '../../peers/status-list-server.js';
import { TestWallet, type WalletRequest } from '../../peers/wallet.js';

export const CLIENT_SECRET = 'wallet-app-secret-0123456789abcdef-0123';
export const REDIRECT = 'http://127.0.0.1:9/app/callback';
export const AGE_API = 'https://api.example.com/age-checked';

/** The DCQL query of the PID connectors: names, birth date, nationality, locality. */
export const PID_QUERY = {
  credentials: [
    {
      id: 'pid',
      format: 'dc+sd-jwt',
      meta: { vct_values: [PID_VCT] },
      claims: [{ path: ['given_name'] }, { path: ['family_name'] }, { path: ['birthdate'] }, { path: ['nationality'] }, { path: ['address', 'locality'] }],
    },
  ],
};

export interface WalletWorld {
  verifierCa: TestCa;
  /** Herald's request-signing certificate (dNSName localhost). */
  verifierLeaf: TestLeaf;
  issuerCa: TestCa;
  /** Inline-JWKS issuer. */
  issuer: SdJwtIssuer;
  /** x5c issuer chained to issuerCa. */
  x5cIssuer: SdJwtIssuer;
  /** Issuer trusted through a JWKS URL on the status server. */
  remoteIssuer: SdJwtIssuer;
  /** Not configured anywhere. */
  untrusted: SdJwtIssuer;
  /** Same iss and kid as `issuer`, another key. */
  impostor: SdJwtIssuer;
  /** Same iss as x5cIssuer, chain to a CA nobody trusts. */
  rogueX5c: SdJwtIssuer;
  status: StatusListServer;
  wallet: TestWallet;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<WalletWorld> {
  const verifierCa = await makeCa('CN=Herald Verifier Test CA');
  const verifierLeaf = await makeLeaf(verifierCa, 'CN=herald.localhost', [{ type: 'dns', value: 'localhost' }]);
  const issuerCa = await makeCa('CN=Issuer Test CA');
  const issuerLeaf = await makeLeaf(issuerCa, 'CN=x5c issuer', [{ type: 'url', value: 'https://x5c-issuer.test' }]);
  const rogueCa = await makeCa('CN=Rogue CA');
  const rogueLeaf = await makeLeaf(rogueCa, 'CN=x5c issuer', [{ type: 'url', value: 'https://x5c-issuer.test' }]);

  const issuer = new SdJwtIssuer('https://pid-issuer.test', 'pid-1');
  const x5cIssuer = new SdJwtIssuer('https://x5c-issuer.test', 'x-1', {
    key: { privateKey: issuerLeaf.privateKey, publicJwk: {} },
    x5c: [issuerLeaf.der, issuerCa.der],
  });
  const remoteIssuer = new SdJwtIssuer('https://remote-issuer.test', 'r-1');
  const untrusted = new SdJwtIssuer('https://untrusted.test', 'u-1');
  const impostor = new SdJwtIssuer('https://pid-issuer.test', 'pid-1');
  const rogueX5c = new SdJwtIssuer('https://x5c-issuer.test', 'x-1', { key: { privateKey: rogueLeaf.privateKey, publicJwk: {} }, x5c: [rogueLeaf.der, rogueCa.der] });

  const status = new StatusListServer();
  for (const [name, peer] of Object.entries({ pid: issuer, x5c: x5cIssuer, remote: remoteIssuer, untrusted, impostor, rogue: rogueX5c })) status.register(name, peer);
  await status.start();
  const wallet = await new TestWallet([verifierCa.pem]).init();
  return {
    verifierCa,
    verifierLeaf,
    issuerCa,
    issuer,
    x5cIssuer,
    remoteIssuer,
    untrusted,
    impostor,
    rogueX5c,
    status,
    wallet,
    stop: () => status.stop(),
  };
}

/** An openid4vp connector config for this world (tests override what they exercise). */
export function walletConnector(world: WalletWorld, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'openid4vp',
    id: 'wallet',
    name: 'EU Digital Identity Wallet',
    clientIdPrefix: 'redirect_uri',
    dcql: PID_QUERY,
    trustedIssuers: [
      { issuer: world.issuer.iss, jwks: world.issuer.jwks },
      { issuer: world.x5cIssuer.iss, x5cTrustAnchors: [world.issuerCa.pem] },
      { issuer: world.remoteIssuer.iss, jwksUri: world.status.jwksUri('remote') },
    ],
    statusList: { allowHttp: true, allowPrivateNetwork: true, timeoutMs: 4000 },
    ...overrides,
  };
}

/** Signed-request connector overrides (x509_hash works on any host). */
export function signedRequests(world: WalletWorld, prefix: 'x509_hash' | 'x509_san_dns' = 'x509_hash', method: 'get' | 'post' = 'post') {
  return { clientIdPrefix: prefix, requestUriMethod: method, requestSigning: { certificate: world.verifierLeaf.pem, privateKey: world.verifierLeaf.privateKeyPem } };
}

export function heraldConfig(issuer: string, connectors: Record<string, unknown>[], extra: Partial<HeraldConfigInput> = {}): HeraldConfigInput {
  const base = baseConfig(issuer);
  return {
    ...base,
    apis: [...(base.apis ?? []), { id: 'age', identifier: AGE_API, scopes: ['age'], accessTokenTtl: 300 }],
    scopes: {
      ...base.scopes,
      age: { description: 'Age-checked access', claims: ['age_over_18', 'nationality', 'given_name', 'family_name', 'birthdate', 'email'] },
    },
    clients: [
      {
        id: 'app',
        name: 'Wallet Test App',
        secret: CLIENT_SECRET,
        redirectUris: [REDIRECT],
        grantTypes: ['authorization_code', 'refresh_token'],
        apis: ['age', 'trading'],
        firstParty: true,
      },
    ],
    connectors: connectors as HeraldConfigInput['connectors'],
    ...extra,
  };
}

export interface BegunSignIn {
  browser: TestBrowser;
  start: AuthorizationStart;
  /** The wallet page (cross-device / choose) or undefined when Herald redirected straight to the wallet. */
  page?: BrowserResponse;
  /** Same-device link (button, or Herald's redirect). */
  sameDevice?: string;
  /** The QR code's content, decoded from the PNG the page shows (undefined: no QR code). */
  qrCode(): Promise<string | undefined>;
  /** Poll endpoint (absolute). */
  pollUrl?: string;
}

/** Client app → Herald → the wallet connector's first step. */
export async function beginSignIn(herald: TestHerald, client: ClientPeer, connectorId = 'wallet', params: Record<string, string> = {}): Promise<BegunSignIn> {
  const browser = new TestBrowser();
  const start = await startAuthorization(client, { scope: 'openid profile email age', idp_hint: connectorId, ...params });
  let deepLink: string | undefined;
  const page = await browser.go(start.url, {}, (next) => {
    if (next.startsWith('openid4vp:') || next.startsWith('https://wallet.example')) {
      deepLink = next;
      return true;
    }
    return false;
  });
  if (deepLink) return { browser, start, sameDevice: deepLink, qrCode: async () => undefined };
  expect(page.status).toBe(200);
  const origin = new URL(page.url).origin;
  const sameDevice = /id="wallet-same-device"/.test(page.body) ? findLink(page.body, /^(openid4vp:|https:\/\/wallet)/) : undefined;
  const qr = /id="wallet-qr" src="([^"]+)"/.exec(page.body)?.[1];
  const poll = /data-poll="([^"]+)"/.exec(page.body)?.[1];
  return {
    browser,
    start,
    page,
    sameDevice,
    qrCode: async () => (qr ? decodeQrDataUrl(qr.replace(/&amp;/g, '&')) : undefined),
    pollUrl: poll ? new URL(poll.replace(/&amp;/g, '&'), origin).href : undefined,
  };
}

/** Decodes a PNG data: URL QR code with pngjs + jsQR. */
export async function decodeQrDataUrl(dataUrl: string): Promise<string> {
  const { PNG } = (await import('pngjs')).default as typeof import('pngjs');
  const jsQR = (await import('jsqr')).default as unknown as typeof import('jsqr').default;
  const png = PNG.sync.read(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!found) throw new Error('no QR code found in the image');
  return found.data;
}

/** The browser polls until the page may continue; returns the poll answers and the next URL. */
export async function pollUntilDone(begun: BegunSignIn, maxPolls = 20): Promise<{ answers: Array<Record<string, unknown>>; next?: string }> {
  const answers: Array<Record<string, unknown>> = [];
  for (let i = 0; i < maxPolls; i++) {
    const response = await begun.browser.fetch(begun.pollUrl!, { headers: { accept: 'application/json' } });
    const body = (await response.json()) as Record<string, unknown>;
    answers.push({ httpStatus: response.status, ...body });
    if (typeof body.next === 'string') return { answers, next: new URL(body.next, begun.pollUrl).href };
    if (body.status !== 'pending') return { answers };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { answers };
}

/** The browser follows `url` (a redirect_uri from the wallet, or the poll's next) back to the app. */
export async function finishInBrowser(begun: BegunSignIn, url: string): Promise<{ callback?: URL; page: BrowserResponse }> {
  return browseToCallback(begun.browser, url, REDIRECT);
}

export async function redeemAt(client: ClientPeer, begun: BegunSignIn, callback: URL) {
  return redeem(client, callback, begun.start);
}

export async function resolve(world: WalletWorld, link: string, options?: Parameters<TestWallet['resolve']>[1]): Promise<WalletRequest> {
  return world.wallet.resolve(link, options);
}
