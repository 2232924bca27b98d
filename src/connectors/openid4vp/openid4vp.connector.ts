/**
 * The wallet connector: Herald as an OpenID4VP 1.0 verifier for SD-JWT VCs (DCQL, direct_post).
 *
 * Routes under /connectors/<id>/:
 *   GET  request?id=<requestId>        the request object (by reference), as often as asked
 *   POST request?id=<requestId>        §5.10: wallet metadata + wallet_nonce → a freshly signed one
 *   POST response?id=<responseId>      direct_post from the wallet; answers in the OpenID4VP format
 *   GET  status?tx=<transactionId>     the page's poll; reveals the response code when it may
 *   GET  callback?response_code=<code> the browser collects the outcome → /interaction/<uid>/continue
 *
 * Same-device: the wallet's answer returns a redirect_uri carrying a fresh response code, so
 * only the browser the wallet runs beside can collect the result (session-fixation defence);
 * a poll never reveals the code of a successful same-device answer. Cross-device: the page that
 * showed the QR code (it alone knows the transaction id) receives the code by polling.
 * Either way the last step is /interaction/<uid>/continue, where the interaction cookie must
 * match the browser that started the sign-in.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setGlobalConfig } from '@openid4vc/utils';
import { DcqlQuery } from 'dcql';
import QRCode from 'qrcode';
import type { Request } from 'express';
import {
  ConnectorError,
  type BeginResult,
  type Connector,
  type ConnectorRoute,
  type ConnectorRouteContext,
  type ConnectorServices,
  type LoginContext,
} from '../connector.js';
import { AuthorizationRequestBuilder, REQUEST_OBJECT_TYPE } from './authorization-request.js';
import { IssuerTrust } from './issuer-trust.js';
import type { Openid4vpConnectorConfig } from './openid4vp.config.js';
import { PresentationRejected, type WalletOAuthError } from './presentation-rejected.js';
import { RequestSigner } from './request-signer.js';
import { verifyAuthorizationResponse } from './response.verifier.js';
import type { PresentationContext } from './sd-jwt-vc.verifier.js';
import { StatusListClient } from './status-list.client.js';
import { walletIdentity } from './wallet-identity.js';
import { walletPage } from './wallet-pages.js';
import { random, WalletTransactions, type WalletFlow, type WalletOutcome, type WalletTransaction } from './wallet-transactions.js';

const MAX_WALLET_METADATA_CHARS = 64 * 1024;
const WALLET_NONCE = /^[\x21-\x7e]{1,256}$/;
const RESPONSE_PARAMS = new Set(['vp_token', 'state', 'error', 'error_description', 'error_uri', 'id_token', 'response', 'iss']);

export class Openid4vpConnector implements Connector {
  readonly type = 'openid4vp' as const;
  readonly id: string;
  readonly name: string;
  readonly transforms: string[];
  readonly emailDomains: string[];

  private readonly dcqlQuery: DcqlQuery.Output;
  private readonly trust: IssuerTrust;
  private readonly status?: StatusListClient;
  private readonly requests: AuthorizationRequestBuilder;
  private readonly transactions: WalletTransactions;
  private readonly base: string;

  constructor(
    private readonly config: Openid4vpConnectorConfig,
    private readonly services: ConnectorServices,
  ) {
    this.id = config.id;
    this.name = config.name;
    this.transforms = config.transforms;
    this.emailDomains = config.emailDomains;
    this.base = `${services.issuer}/connectors/${encodeURIComponent(config.id)}`;
    this.dcqlQuery = DcqlQuery.parse(config.dcql as DcqlQuery.Input);
    DcqlQuery.validate(this.dcqlQuery);
    const pem = (value: string) => (value.trimStart().startsWith('-----BEGIN') ? value : readFileSync(resolve(services.configDir, value), 'utf8'));
    this.trust = new IssuerTrust(
      config.trustedIssuers.map((entry) => ({ ...entry, x5cTrustAnchors: entry.x5cTrustAnchors?.map(pem) })),
      { allowHttp: services.development },
    );
    if (config.statusList.enabled) {
      this.status = new StatusListClient(this.trust, { ...config.statusList, clockSkewSeconds: config.clockSkewSeconds });
    }
    const signer =
      config.clientIdPrefix === 'redirect_uri'
        ? undefined
        : RequestSigner.create(config.clientIdPrefix, pem(config.requestSigning!.certificate), pem(config.requestSigning!.privateKey), new URL(services.issuer).hostname);
    this.requests = new AuthorizationRequestBuilder({
      prefix: config.clientIdPrefix,
      signer,
      walletUrl: config.walletUrl,
      unsignedRequest: config.unsignedRequest,
      requestUriMethod: config.requestUriMethod,
      dcqlQuery: this.dcqlQuery,
    });
    this.transactions = new WalletTransactions(services.state, services.replay);
  }

  async begin(login: LoginContext): Promise<BeginResult> {
    if (this.config.flow === 'same_device') {
      const tx = await this.newTransaction(login.interactionId, 'same_device');
      return { kind: 'redirect', url: tx.deepLink };
    }
    const sameDevice = this.config.flow === 'choose' ? await this.newTransaction(login.interactionId, 'same_device') : undefined;
    const tx = await this.newTransaction(login.interactionId, 'cross_device', sameDevice?.id);
    // A PNG data: URL (the page CSP allows `img-src data:`); the .qr class scales it without smoothing.
    const qrDataUrl = await QRCode.toDataURL(tx.deepLink, { errorCorrectionLevel: 'M', margin: 2, scale: 4 });
    const page = walletPage({
      interactionId: login.interactionId,
      connectorId: this.id,
      connectorName: this.name,
      qrDataUrl,
      sameDeviceLink: sameDevice?.deepLink,
      pollUrl: `/connectors/${encodeURIComponent(this.id)}/status?tx=${tx.id}`,
    });
    return { kind: 'page', page: this.services.ui.page(page) };
  }

  routes(): ConnectorRoute[] {
    return [
      { method: 'GET', path: 'request', handle: (ctx) => this.requestObject(ctx, 'GET') },
      { method: 'POST', path: 'request', handle: (ctx) => this.requestObject(ctx, 'POST') },
      { method: 'POST', path: 'response', handle: (ctx) => this.directPost(ctx) },
      { method: 'GET', path: 'status', handle: (ctx) => this.poll(ctx) },
      { method: 'GET', path: 'callback', handle: (ctx) => this.callback(ctx) },
    ];
  }

  private async newTransaction(interactionId: string, flow: WalletFlow, sibling?: string): Promise<WalletTransaction> {
    const requestId = random(16);
    const responseId = random(16);
    const expiresAt = Date.now() + this.config.transactionTtlSeconds * 1000;
    const input = {
      requestUri: `${this.base}/request?id=${requestId}`,
      responseUri: `${this.base}/response?id=${responseId}`,
      nonce: random(24),
      state: random(24),
      expiresAt,
    };
    const created = await this.requests.create(input);
    const tx: WalletTransaction = {
      id: random(32),
      flow,
      interactionId,
      ...(sibling ? { sibling } : {}),
      requestId,
      responseId,
      state: input.state,
      nonce: input.nonce,
      clientId: created.clientId,
      request: created.payload,
      deepLink: created.deepLink,
      requestObject: created.requestObject,
      expiresAt,
    };
    await this.transactions.save(tx);
    return tx;
  }

  // ---------------------------------------------------------------- request_uri

  private async requestObject(ctx: ConnectorRouteContext, method: 'GET' | 'POST'): Promise<void> {
    const { req, res } = ctx;
    const tx = await this.transactions.byRequestId(req.query.id);
    if (!tx || !tx.requestObject) return walletError(ctx, 400, 'invalid_request_uri', 'unknown or expired request');
    if (tx.done) return walletError(ctx, 400, 'invalid_request_uri', 'this request has been answered');
    let body = tx.requestObject;
    if (method === 'POST') {
      if (!this.requests.signed) return walletError(ctx, 400, 'invalid_request_uri_method', 'an unsigned request cannot carry a wallet_nonce; use GET');
      if (!req.is('application/x-www-form-urlencoded')) return walletError(ctx, 400, 'invalid_request', 'expected a form-encoded body');
      const form = (req.body ?? {}) as Record<string, unknown>;
      let walletIssuer: string | undefined;
      const metadata = form.wallet_metadata;
      if (metadata !== undefined) {
        if (typeof metadata !== 'string' || metadata.length > MAX_WALLET_METADATA_CHARS) return walletError(ctx, 400, 'invalid_request', 'wallet_metadata is not a JSON object');
        let parsed: unknown;
        try {
          parsed = JSON.parse(metadata);
        } catch {
          parsed = undefined;
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return walletError(ctx, 400, 'invalid_request', 'wallet_metadata is not a JSON object');
        const algs = (parsed as Record<string, unknown>).request_object_signing_alg_values_supported;
        const alg = this.requests.signingAlg;
        if (Array.isArray(algs) && !algs.includes(alg)) return walletError(ctx, 400, 'invalid_request', `the wallet does not accept ${alg} request objects`);
        const issuer = (parsed as Record<string, unknown>).issuer;
        if (typeof issuer === 'string' && URL.canParse(issuer)) walletIssuer = issuer;
      }
      const nonce = form.wallet_nonce;
      if (nonce !== undefined && (typeof nonce !== 'string' || !WALLET_NONCE.test(nonce))) return walletError(ctx, 400, 'invalid_request', 'malformed wallet_nonce');
      body = await this.requests.resign(tx.request, this.requestInputOf(tx), nonce as string | undefined, walletIssuer);
    }
    // As a Buffer, so that Express does not append a charset to the media type.
    res.status(200).set({ 'content-type': REQUEST_OBJECT_TYPE, 'cache-control': 'no-store' }).send(Buffer.from(body, 'ascii'));
  }

  // ---------------------------------------------------------------- response_uri (direct_post)

  private async directPost(ctx: ConnectorRouteContext): Promise<void> {
    const { req } = ctx;
    if (!req.is('application/x-www-form-urlencoded')) return walletError(ctx, 400, 'invalid_request', 'expected a form-encoded body');
    const tx = await this.transactions.byResponseId(req.query.id);
    if (!tx) return this.refuse(ctx, undefined, new PresentationRejected('tx_expired_or_unknown', 'unknown or expired transaction'), true);
    const body = formFields(req);
    if (!body) return walletError(ctx, 400, 'invalid_request', 'a parameter is repeated');
    // A mismatched state does not use up the transaction (it may not come from the wallet at all).
    if (body.state !== tx.state) return this.refuse(ctx, undefined, new PresentationRejected('state', 'state does not match the transaction'), true);
    if (!(await this.transactions.claimResponse(tx))) {
      return this.refuse(ctx, undefined, new PresentationRejected('replay', 'this transaction has already been answered'), true);
    }

    if (body.error !== undefined) {
      const denied = body.error === 'access_denied';
      const code = await this.transactions.finish(tx, {
        kind: 'rejected',
        interactionId: tx.interactionId,
        check: 'wallet_error',
        detail: `${body.error}${body.error_description ? `: ${body.error_description.slice(0, 200)}` : ''}`,
        denied,
      });
      this.services.log('info', 'wallet answered with an error', { error: body.error.slice(0, 64) });
      return sendJson(ctx, 200, tx.flow === 'same_device' ? { redirect_uri: this.callbackUrl(code) } : {});
    }

    let outcome: WalletOutcome;
    try {
      const verified = await verifyAuthorizationResponse(body, tx.request, this.dcqlQuery, this.presentationContext(tx));
      const identity = walletIdentity(verified, this.config.subjectClaim);
      const until = Date.now() + (this.config.keyBindingMaxAgeSeconds + 2 * this.config.clockSkewSeconds) * 1000;
      if (!(await this.transactions.claimPresentation(verified.credential.replayKey, Math.max(until, tx.expiresAt)))) {
        throw new PresentationRejected('replay', 'this presentation has already been accepted');
      }
      outcome = { kind: 'verified', interactionId: tx.interactionId, identity };
    } catch (error) {
      const rejection =
        error instanceof PresentationRejected ? error : new PresentationRejected('internal_error', String((error as Error)?.stack ?? error), 'server_error');
      const code = await this.transactions.finish(tx, {
        kind: 'rejected',
        interactionId: tx.interactionId,
        check: rejection.check,
        detail: rejection.detail.slice(0, 500),
        denied: rejection.oauthError === 'access_denied',
      });
      return this.refuse(ctx, tx.flow === 'same_device' ? this.callbackUrl(code) : undefined, rejection);
    }
    const code = await this.transactions.finish(tx, outcome);
    return sendJson(ctx, 200, tx.flow === 'same_device' ? { redirect_uri: this.callbackUrl(code) } : {});
  }

  /**
   * Answers the wallet in the OpenID4VP / RFC 6749 error format, naming only the check.
   * `audit`: no sign-in will report this rejection (no live transaction behind it), so it is
   * audited here; rejections of a live transaction are audited when the browser continues.
   */
  private refuse(ctx: ConnectorRouteContext, redirectUri: string | undefined, rejection: PresentationRejected, audit = false): void {
    this.services.log('warn', 'wallet presentation rejected', { check: rejection.check, detail: rejection.detail.slice(0, 500) });
    if (audit) this.services.audit({ type: 'wallet.presentation_rejected', reason: rejection.check, data: { detail: rejection.detail.slice(0, 200) } });
    const status = rejection.oauthError === 'server_error' ? 500 : 400;
    sendJson(ctx, status, {
      error: rejection.oauthError,
      error_description: rejection.check,
      // Not standard on an error, but lets a same-device wallet bring the user back to the failure page.
      ...(redirectUri ? { redirect_uri: redirectUri } : {}),
    });
  }

  private presentationContext(tx: WalletTransaction): PresentationContext {
    return {
      clientId: tx.clientId,
      nonce: tx.nonce,
      keyBindingRequired: this.config.keyBindingRequired,
      trust: this.trust,
      status: this.status,
      statusRequired: this.config.statusList.required,
      requireExpiry: this.config.requireCredentialExpiry,
      clockSkewSeconds: this.config.clockSkewSeconds,
      keyBindingMaxAgeSeconds: this.config.keyBindingMaxAgeSeconds,
    };
  }

  // ---------------------------------------------------------------- browser side

  /** The page's poll. The response code of a successful same-device answer is never revealed here. */
  private async poll(ctx: ConnectorRouteContext): Promise<void> {
    const tx = await this.transactions.get(ctx.req.query.tx);
    if (!tx) return sendJson(ctx, 404, { status: 'expired' });
    if (tx.done && (tx.flow === 'cross_device' || tx.done.failed)) return sendJson(ctx, 200, { status: 'done', next: this.callbackPath(tx.done.code) });
    const sibling = tx.sibling ? await this.transactions.get(tx.sibling) : undefined;
    if (sibling?.done?.failed) return sendJson(ctx, 200, { status: 'done', next: this.callbackPath(sibling.done.code) });
    return sendJson(ctx, 200, { status: 'pending' });
  }

  private async callback(ctx: ConnectorRouteContext): Promise<void> {
    const outcome = await this.transactions.takeOutcome(ctx.req.query.response_code);
    if (!outcome) {
      return ctx.fail(
        undefined,
        new ConnectorError('upstream_protocol', 'response_code', 'response code unknown, expired or already used', { event: 'wallet.presentation_rejected' }),
      );
    }
    if (outcome.kind === 'verified') {
      try {
        return await ctx.succeed(outcome.interactionId, outcome.identity);
      } catch (error) {
        if (error instanceof ConnectorError) return ctx.fail(outcome.interactionId, error);
        throw error;
      }
    }
    const presentationFailed = outcome.check !== 'wallet_error';
    return ctx.fail(
      outcome.interactionId,
      new ConnectorError(outcome.denied ? 'access_denied' : 'upstream_protocol', outcome.check, outcome.detail, presentationFailed ? { event: 'wallet.presentation_rejected' } : undefined),
    );
  }

  private requestInputOf(tx: WalletTransaction) {
    return {
      requestUri: `${this.base}/request?id=${tx.requestId}`,
      responseUri: `${this.base}/response?id=${tx.responseId}`,
      nonce: tx.nonce,
      state: tx.state,
      expiresAt: tx.expiresAt,
    };
  }

  private callbackPath(code: string): string {
    return `/connectors/${encodeURIComponent(this.id)}/callback?response_code=${code}`;
  }

  private callbackUrl(code: string): string {
    return `${this.services.issuer}${this.callbackPath(code)}`;
  }
}

/** Single-valued string form fields of a urlencoded body, or undefined if a known one repeats. */
function formFields(req: Request): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string') out[name] = value;
    else if (RESPONSE_PARAMS.has(name)) return undefined;
  }
  return out;
}

function sendJson(ctx: ConnectorRouteContext, status: number, body: Record<string, unknown>): void {
  ctx.res.status(status).set('cache-control', 'no-store').json(body);
}

function walletError(ctx: ConnectorRouteContext, status: number, error: WalletOAuthError | string, description: string): void {
  sendJson(ctx, status, { error, error_description: description });
}

export function createOpenid4vpConnector(config: Openid4vpConnectorConfig, services: ConnectorServices): Connector {
  const where = `connector "${config.id}"`;
  const insecure = new URL(services.issuer).protocol === 'http:';
  if (!services.development) {
    if (insecure) throw new Error(`${where}: wallets need Herald's issuer on https (http is allowed in development mode only)`);
    if (config.clientIdPrefix === 'redirect_uri') throw new Error(`${where}: the redirect_uri client identifier prefix is for development mode only; use x509_san_dns or x509_hash`);
    if (config.statusList.allowHttp || config.statusList.allowPrivateNetwork) {
      throw new Error(`${where}: statusList.allowHttp and statusList.allowPrivateNetwork are for development mode only`);
    }
  }
  if (insecure) {
    // @openid4vc refuses http:// response and request URIs unless this process-wide switch is on;
    // reached only in development mode with an http issuer.
    setGlobalConfig({ allowInsecureUrls: true });
    services.log('warn', 'development mode with an http issuer: @openid4vc accepts http URLs in this process');
  }
  try {
    return new Openid4vpConnector(config, services);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
}
