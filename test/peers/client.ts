/**
 * The client application peer: openid-client 6 against Herald over loopback HTTP.
 */
import * as oidc from 'openid-client';
import type { TestBrowser, BrowserResponse } from '../support/browser.js';

export interface ClientPeer {
  config: oidc.Configuration;
  redirectUri: string;
}

export async function clientPeer(issuer: string, clientId: string, secret: string | undefined, redirectUri = 'http://127.0.0.1:1/callback'): Promise<ClientPeer> {
  const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
  const config = await oidc.discovery(new URL(issuer), clientId, secret ? { client_secret: secret } : undefined, auth, {
    execute: [oidc.allowInsecureRequests],
  });
  return { config, redirectUri };
}

export interface AuthorizationStart {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

export async function startAuthorization(peer: ClientPeer, params: Record<string, string> = {}): Promise<AuthorizationStart> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(peer.config, {
    redirect_uri: peer.redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url: url.href, state, nonce, verifier };
}

/** Follows the browser until it lands on the client's redirect URI; returns that URL. */
export async function browseToCallback(browser: TestBrowser, url: string, redirectUri: string, init?: RequestInit): Promise<{ callback?: URL; page: BrowserResponse }> {
  let callback: URL | undefined;
  const page = await browser.go(url, init, (next) => {
    if (next.startsWith(redirectUri)) {
      callback = new URL(next);
      return true;
    }
    return false;
  });
  return { callback, page };
}

export async function redeem(peer: ClientPeer, callback: URL, start: AuthorizationStart): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  return oidc.authorizationCodeGrant(peer.config, callback, {
    pkceCodeVerifier: start.verifier,
    expectedState: start.state,
    expectedNonce: start.nonce,
    idTokenExpected: true,
  });
}

export { oidc };
