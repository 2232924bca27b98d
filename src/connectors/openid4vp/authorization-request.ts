/**
 * Builds OpenID4VP 1.0 authorization requests with @openid4vc/openid4vp: `response_type=vp_token`,
 * `response_mode=direct_post` to a per-transaction `response_uri`, the connector's DCQL query,
 * fresh `nonce` and `state`. Signed prefixes (`x509_san_dns:`, `x509_hash:`) travel by reference
 * as a JAR; `redirect_uri:` requests cannot be signed and go by value (or, if configured, as an
 * unsecured request object by reference — RFC 9101 allows it; many wallets refuse it).
 *
 * Library pitfalls handled here (docs/connectors-wallet.md): the JAR `aud` defaults to the
 * request_uri (OpenID4VP §5.8 wants `https://self-issued.me/v2` or the wallet's issuer), and
 * `request_uri_method` is neither emitted in the link nor accepted in lower case by its validator,
 * so Herald adds it to the link itself.
 */
import { createOpenid4vpAuthorizationRequest, type Openid4vpAuthorizationRequest } from '@openid4vc/openid4vp';
import type { DcqlQuery } from 'dcql';
import { JWS_ALGORITHMS } from './jws.js';
import type { RequestSigner } from './request-signer.js';

export type ClientIdPrefix = 'redirect_uri' | 'x509_san_dns' | 'x509_hash';

export const STATIC_WALLET_AUDIENCE = 'https://self-issued.me/v2';
export const REQUEST_OBJECT_TYPE = 'application/oauth-authz-req+jwt';

export interface RequestSettings {
  prefix: ClientIdPrefix;
  signer?: RequestSigner;
  walletUrl: string;
  unsignedRequest: 'by_value' | 'by_reference';
  requestUriMethod: 'get' | 'post';
  dcqlQuery: DcqlQuery.Output;
}

export interface RequestInput {
  responseUri: string;
  requestUri: string;
  nonce: string;
  state: string;
  expiresAt: number;
}

export interface CreatedRequest {
  /** Full client identifier (prefix included): the KB-JWT `aud` this transaction accepts. */
  clientId: string;
  /** The request parameters as sent (what the response is checked against). */
  payload: Record<string, unknown>;
  /** openid4vp://… (or the configured wallet URL) for the QR code and the same-device link. */
  deepLink: string;
  /** The request object served at request_uri, when by reference. */
  requestObject?: string;
}

const VP_FORMATS = {
  'dc+sd-jwt': { 'sd-jwt_alg_values': [...JWS_ALGORITHMS], 'kb-jwt_alg_values': [...JWS_ALGORITHMS] },
};

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export class AuthorizationRequestBuilder {
  constructor(private readonly settings: RequestSettings) {}

  clientIdFor(responseUri: string): string {
    // redirect_uri: the identifier is the response_uri itself when direct_post is used (§5.9.3).
    return this.settings.signer ? this.settings.signer.clientId : `redirect_uri:${responseUri}`;
  }

  get byReference(): boolean {
    return !!this.settings.signer || this.settings.unsignedRequest === 'by_reference';
  }

  get signed(): boolean {
    return !!this.settings.signer;
  }

  /** The request-object signing algorithm (signed prefixes only). */
  get signingAlg(): string {
    return this.settings.signer?.alg ?? 'none';
  }

  async create(input: RequestInput): Promise<CreatedRequest> {
    const clientId = this.clientIdFor(input.responseUri);
    const payload = this.payload(clientId, input);
    const { signer } = this.settings;
    if (signer) {
      const signed = await this.sign(payload, input);
      const link = new URL(signed.deepLink);
      if (this.settings.requestUriMethod === 'post') link.searchParams.set('request_uri_method', 'post');
      return { clientId, payload: signed.payload, deepLink: link.href, requestObject: signed.jwt };
    }
    const created = await createOpenid4vpAuthorizationRequest({
      scheme: this.settings.walletUrl,
      authorizationRequestPayload: payload,
      callbacks: unusedCallbacks,
    });
    const sentPayload = created.authorizationRequestPayload as Record<string, unknown>;
    if (this.settings.unsignedRequest === 'by_value') return { clientId, payload: sentPayload, deepLink: created.authorizationRequest };
    // Unsecured request object (alg "none") by reference: RFC 9101 §2.1 allows it; the library refuses to build one.
    const requestObject = `${b64json({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${b64json(sentPayload)}.`;
    const link = new URL(this.settings.walletUrl);
    link.searchParams.set('client_id', clientId);
    link.searchParams.set('request_uri', input.requestUri);
    return { clientId, payload: sentPayload, deepLink: link.href, requestObject };
  }

  /**
   * A request object signed again for a request_uri POST (§5.10): with the wallet's nonce, and
   * for the wallet's issuer as audience when it named one.
   */
  async resign(payload: Record<string, unknown>, input: RequestInput, walletNonce?: string, walletIssuer?: string): Promise<string> {
    const withNonce = walletNonce ? { ...payload, wallet_nonce: walletNonce } : payload;
    return (await this.sign(withNonce, input, walletNonce, walletIssuer)).jwt;
  }

  private payload(clientId: string, input: RequestInput): Openid4vpAuthorizationRequest {
    return {
      response_type: 'vp_token',
      client_id: clientId,
      response_uri: input.responseUri,
      response_mode: 'direct_post',
      nonce: input.nonce,
      state: input.state,
      dcql_query: this.settings.dcqlQuery as unknown as Openid4vpAuthorizationRequest['dcql_query'],
      client_metadata: { vp_formats_supported: VP_FORMATS },
    } as Openid4vpAuthorizationRequest;
  }

  private async sign(payload: Record<string, unknown>, input: RequestInput, walletNonce?: string, walletIssuer?: string) {
    const signer = this.settings.signer!;
    const created = await createOpenid4vpAuthorizationRequest({
      scheme: this.settings.walletUrl,
      authorizationRequestPayload: payload as Openid4vpAuthorizationRequest,
      jar: {
        requestUri: input.requestUri,
        jwtSigner: { method: 'x5c', alg: signer.alg, x5c: signer.x5c },
        expiresInSeconds: Math.max(1, Math.floor((input.expiresAt - Date.now()) / 1000)),
        additionalJwtPayload: { aud: walletIssuer ?? STATIC_WALLET_AUDIENCE },
      },
      ...(walletNonce ? { wallet: { expectedNonce: walletNonce } } : {}),
      callbacks: {
        signJwt: async (_jwtSigner, jwt) => ({
          jwt: await signer.sign(jwt.header as Record<string, unknown>, jwt.payload as Record<string, unknown>),
          signerJwk: signer.publicJwk() as any,
        }),
        encryptJwe: unusedCallbacks.encryptJwe,
      },
    });
    return { jwt: created.jar!.authorizationRequestJwt, deepLink: created.authorizationRequest, payload: created.authorizationRequestPayload as Record<string, unknown> };
  }
}

const unusedCallbacks = {
  signJwt: async (): Promise<never> => {
    throw new Error('unsigned request');
  },
  encryptJwe: async (): Promise<never> => {
    throw new Error('request encryption is not supported');
  },
};
