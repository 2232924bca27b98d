/**
 * The demo application: an ordinary OpenID Connect client (openid-client 6) that signs in through
 * Herald over HTTP, exactly as a real app would — discovery, code + PKCE + state + nonce, token
 * request — and then shows what it received. Its flow state is kept in the flow-state table.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { ClientConfig } from '../config/config.schema.js';
import type { FlowStateStore } from '../connectors/connector.js';

const FLOW_TTL_SECONDS = 600;

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export interface DemoResult {
  idToken: DecodedJwt;
  accessToken: DecodedJwt;
  /** Whether the access token's signature checked out against Herald's JWKS, and for which audience. */
  accessTokenVerified: boolean;
  scope?: string;
  expiresIn?: number;
  refreshToken: boolean;
}

export class DemoClient {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly issuer: string,
    private readonly client: ClientConfig,
    private readonly flows: FlowStateStore,
  ) {}

  get redirectUri(): string {
    return `${this.issuer}/demo/callback`;
  }

  /** The authorization URL to send the browser to, and the state that names this attempt. */
  async start(scope: string): Promise<{ url: string; state: string }> {
    const configuration = await this.discover();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    await this.flows.put(state, { nonce, verifier }, FLOW_TTL_SECONDS);
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state };
  }

  /** Redeems the code of the callback whose query is `query` (state checked against `state`). */
  async finish(query: string, state: string): Promise<DemoResult> {
    const flow = await this.flows.take(state);
    if (!flow) throw new DemoError('This sign-in attempt is unknown or was already used. Start again.');
    const configuration = await this.discover();
    const tokens = await oidc.authorizationCodeGrant(configuration, new URL(`${this.redirectUri}${query}`), {
      expectedState: state,
      expectedNonce: String(flow.nonce),
      pkceCodeVerifier: String(flow.verifier),
      idTokenExpected: true,
    });
    const access = decode(tokens.access_token);
    let accessTokenVerified = false;
    if (typeof access.payload.aud === 'string') {
      try {
        await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(configuration.serverMetadata().jwks_uri!)), {
          issuer: this.issuer,
          audience: access.payload.aud,
          typ: 'at+jwt',
        });
        accessTokenVerified = true;
      } catch {
        accessTokenVerified = false;
      }
    }
    return {
      idToken: decode(tokens.id_token!),
      accessToken: access,
      accessTokenVerified,
      scope: tokens.scope,
      expiresIn: tokens.expiresIn(),
      refreshToken: !!tokens.refresh_token,
    };
  }

  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(new URL(this.issuer), this.client.id, this.client.secret, clientAuth(this.client), {
        execute: this.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      })
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw error;
      });
    return this.configuration;
  }
}

/** A failure the demo page explains to the developer. */
export class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

function clientAuth(client: ClientConfig): oidc.ClientAuth {
  const method = client.authMethod ?? (client.type === 'public' ? 'none' : 'client_secret_basic');
  if (method === 'client_secret_post') return oidc.ClientSecretPost(client.secret);
  if (method === 'none') return oidc.None();
  return oidc.ClientSecretBasic(client.secret);
}

function decode(token: string): DecodedJwt {
  try {
    return { header: decodeProtectedHeader(token) as Record<string, unknown>, payload: decodeJwt(token) as Record<string, unknown> };
  } catch {
    return { header: {}, payload: { note: 'not a JWT (opaque token)' } };
  }
}
