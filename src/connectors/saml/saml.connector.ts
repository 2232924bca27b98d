/**
 * The SAML 2.0 connector: Herald as the service provider of a partner's IdP.
 *
 * Routes under /connectors/<id>/: `metadata` (SP metadata, stable URL), `acs` (HTTP-POST
 * assertion consumer), `slo` (LogoutResponse, HTTP-Redirect). begin() sends an AuthnRequest by
 * HTTP-Redirect or HTTP-POST whose ID is bound to the interaction in the database; the ACS
 * validates the answer (acs-response.validator.ts) and finishes exactly that interaction, whose
 * cookie Herald checks at /interaction/<uid>/continue.
 */
import type { Request } from 'express';
import type { BeginResult, Connector, ConnectorRoute, ConnectorRouteContext, ConnectorServices, LoginContext } from '../connector.js';
import { ConnectorError } from '../connector.js';
import type { SamlConnectorConfig } from './saml.config.js';
import { IdpUnavailableError, SamlServiceProvider } from './saml-service-provider.js';
import { SamlRequestStore } from './saml-request-store.js';
import { AcsResponseValidator } from './acs-response.validator.js';
import { identityFromAssertion, type SamlSessionData } from './saml-identity.js';
import { spMetadataXml } from './sp-metadata.js';
import { acceptLogoutResponse, logoutRequestUrl, newRequestId } from './saml-logout.js';
import { SamlRejection } from './saml-rejection.js';
import { IdpMetadataSource } from './idp-metadata.source.js';
import { loadCertificate, loadKeyPair } from './saml-credentials.js';
import { html } from '../../ui/html.js';

export class SamlConnector implements Connector {
  readonly type = 'saml' as const;
  readonly id: string;
  readonly name: string;
  readonly transforms: string[];
  readonly emailDomains: string[];
  private readonly requests: SamlRequestStore;
  private readonly acs: AcsResponseValidator;

  constructor(
    private readonly sp: SamlServiceProvider,
    private readonly services: ConnectorServices,
  ) {
    this.id = sp.id;
    this.name = sp.config.name;
    this.transforms = sp.config.transforms;
    this.emailDomains = sp.config.emailDomains;
    this.requests = new SamlRequestStore(services.state, sp.config.requestTtlSeconds);
    this.acs = new AcsResponseValidator(sp, this.requests, services.replay);
  }

  async init(): Promise<void> {
    const source = this.sp.metadata;
    if (!source) return;
    try {
      const metadata = await source.refresh();
      this.services.log('info', 'IdP metadata loaded', { certificates: metadata.certificates.length, signed: metadata.signed });
    } catch (error) {
      // Not fatal: sign-ins through this connector fail as "unavailable" until a refresh succeeds.
      this.services.log('error', 'IdP metadata could not be loaded', { error: String(error) });
    }
    source.start();
  }

  /** Re-reads the IdP metadata now (an operator action, or a test); a failure keeps the last good metadata. */
  async refreshMetadata(): Promise<void> {
    await this.sp.metadata?.refresh();
  }

  async close(): Promise<void> {
    this.sp.metadata?.stop();
  }

  async begin(login: LoginContext): Promise<BeginResult> {
    let idp;
    try {
      idp = this.sp.idp();
    } catch (error) {
      if (error instanceof IdpUnavailableError) throw new ConnectorError('upstream_unavailable', 'idp_metadata_unavailable', error.message);
      throw error;
    }
    // RelayState carries the request ID: it routes a refusal to this sign-in even if the XML is unreadable.
    const requestId = newRequestId();
    const post = idp.ssoBinding === 'post';
    const saml = this.sp.saml({
      cacheProvider: this.requests.cacheProvider({ kind: 'authn', interactionId: login.interactionId }),
      requestId,
      post,
      forceAuthn: this.sp.config.forceAuthn || !!login.prompt?.includes('login'),
    });
    if (post) {
      const message = await saml.getAuthorizeMessageAsync(requestId, undefined, {});
      const fields = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, String(v)]));
      return { kind: 'post', url: idp.ssoUrl, fields };
    }
    return { kind: 'redirect', url: await saml.getAuthorizeUrlAsync(requestId, undefined, {}) };
  }

  routes(): ConnectorRoute[] {
    return [
      { method: 'GET', path: 'metadata', handle: async (ctx) => this.metadata(ctx) },
      { method: 'POST', path: 'acs', handle: async (ctx) => this.consume(ctx) },
      { method: 'GET', path: 'slo', handle: async (ctx) => this.logoutResponse(ctx) },
    ];
  }

  /** Starts SP-initiated Single Logout; undefined when the IdP has no SLO endpoint (the Herald session ends anyway). */
  async logoutUrl(identity: { private?: Record<string, unknown>; subject: string }, returnTo: string): Promise<string | undefined> {
    const session = identity.private?.saml as SamlSessionData | undefined;
    if (!session) return undefined;
    try {
      return await logoutRequestUrl(this.sp, this.requests, session, returnTo);
    } catch (error) {
      this.services.log('warn', 'SAML logout request could not be built', { error: String(error) });
      return undefined;
    }
  }

  private async metadata(ctx: ConnectorRouteContext): Promise<void> {
    ctx.res.status(200).set({ 'content-type': 'application/samlmetadata+xml; charset=utf-8', 'cache-control': 'public, max-age=3600' }).send(spMetadataXml(this.sp));
  }

  private async consume(ctx: ConnectorRouteContext): Promise<void> {
    const body = (ctx.req.body ?? {}) as Record<string, unknown>;
    const outcome = await this.acs.validate(body);
    if (!outcome.ok) return ctx.fail(outcome.interactionId, outcome.rejection.toConnectorError());
    const { response } = outcome;
    let identity;
    try {
      identity = identityFromAssertion(this.sp.config, response.assertion);
    } catch (error) {
      const rejection = error instanceof SamlRejection ? error : new SamlRejection('assertion_invalid', String(error));
      return ctx.fail(response.interactionId, rejection.toConnectorError());
    }
    if (response.interactionId === undefined) {
      // IdP-initiated: valid, but nothing binds it to this browser, so it signs nobody in here.
      this.services.log('info', 'IdP-initiated SAML response accepted; sending the browser to the landing URL', { issuer: response.assertion.issuer, assertionId: response.assertion.id });
      ctx.res.status(303).setHeader('location', this.sp.config.unsolicitedLandingUrl!).setHeader('cache-control', 'no-store').end();
      return;
    }
    await ctx.succeed(response.interactionId, identity);
  }

  private async logoutResponse(ctx: ConnectorRouteContext): Promise<void> {
    const rawQuery = rawQueryOf(ctx.req);
    try {
      const { returnTo } = await acceptLogoutResponse(this.sp, this.requests, rawQuery);
      if (returnTo) {
        ctx.res.status(303).setHeader('location', returnTo).setHeader('cache-control', 'no-store').end();
        return;
      }
      const page = this.services.ui.page({ title: 'Signed out', body: html`<h1>You are signed out</h1><p>You are signed out of ${this.name}. You can close this window.</p>` });
      ctx.res.status(200).set(page.headers).send(page.html);
    } catch (error) {
      const rejection = error instanceof SamlRejection ? error : new SamlRejection('assertion_invalid', String(error));
      await ctx.fail(undefined, rejection.toConnectorError());
    }
  }
}

/** The query string exactly as the client sent it (node-saml needs the original encoding). */
function rawQueryOf(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

export function createSamlConnector(config: SamlConnectorConfig, services: ConnectorServices): Connector {
  const base = `${services.issuer}/connectors/${encodeURIComponent(config.id)}`;
  const key = (path: string) => `connectors.${config.id}.${path}`;
  const certificates = config.idp.certificates.map((c, i) => loadCertificate(c, services.configDir, key(`idp.certificates.${i}`)));
  const signing = config.sp.signing ? loadKeyPair(config.sp.signing, services.configDir, key('sp.signing')) : undefined;
  const decryption = config.sp.decryption.map((k, i) => ({ ...loadKeyPair(k, services.configDir, key(`sp.decryption.${i}`)), publish: k.publish }));
  const metadata = config.idp.metadata
    ? new IdpMetadataSource(config.idp.metadata, {
        entityId: config.idp.entityId,
        configDir: services.configDir,
        signingCertificates: config.idp.metadata.signingCertificates.map((c, i) =>
          loadCertificate(c, services.configDir, key(`idp.metadata.signingCertificates.${i}`)),
        ),
        allowSha1: config.allowSha1,
        log: services.log,
      })
    : undefined;
  const sp = new SamlServiceProvider(
    config.id,
    config,
    { entityId: config.sp.entityId ?? `${base}/metadata`, metadataUrl: `${base}/metadata`, acsUrl: `${base}/acs`, sloUrl: `${base}/slo` },
    certificates,
    signing,
    decryption,
    metadata,
  );
  return new SamlConnector(sp, services);
}
