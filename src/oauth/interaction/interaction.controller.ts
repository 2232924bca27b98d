/**
 * Herald's login interaction (oidc-provider `interactions.url`): the login page, home-realm
 * discovery, the hand-over from connectors, consent, and failures. Every route under
 * /interaction/:uid receives oidc-provider's interaction cookie, which binds the sign-in to
 * the browser that started it.
 */
import { Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { HeraldConfig } from '../../config/config.schema.js';
import { LOADED_CONFIG } from '../../config/config.module.js';
import type { LoadedConfig } from '../../config/config.loader.js';
import { ConnectorRegistry } from '../../connectors/connector.registry.js';
import { ConnectorError, type Connector } from '../../connectors/connector.js';
import { ClaimsService } from '../../claims/claims.service.js';
import { UiService } from '../../ui/ui.service.js';
import { ProviderHost } from '../provider-host.js';
import { UPSTREAM_RESULT_KEY, upstreamResult } from '../session-upstreams.js';
import { LoginService } from './login.service.js';
import { PendingLogins } from './pending-logins.js';
import { consentPage, failurePage, loginPage, type ConsentScope } from './interaction-pages.js';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const EMAIL_DOMAIN = /@([^@\s]+)$/;

@Controller('interaction')
export class InteractionController {
  private readonly config: HeraldConfig;

  constructor(
    @Inject(LOADED_CONFIG) loaded: LoadedConfig,
    private readonly host: ProviderHost,
    private readonly connectors: ConnectorRegistry,
    private readonly login: LoginService,
    private readonly pending: PendingLogins,
    private readonly claims: ClaimsService,
    private readonly ui: UiService,
  ) {
    this.config = loaded.config;
  }

  @Get(':uid')
  async show(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.details(uid, req, res);
    if (!details) return;
    if (details.prompt.name === 'login') return this.loginStep(details, req, res);
    if (details.prompt.name === 'consent') return this.consentStep(details, req, res);
    this.ui.send(res, 400, failurePage('This sign-in step is not supported.'));
  }

  /** The user picked a connector on the login page. */
  @Get(':uid/login/:connectorId')
  async choose(@Param('uid') uid: string, @Param('connectorId') connectorId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.details(uid, req, res);
    if (!details) return;
    if (details.prompt.name !== 'login') return this.show(uid, req, res);
    const connector = this.allowedConnectors(details).find((c) => c.id === connectorId);
    if (!connector) {
      this.ui.send(res, 400, failurePage('This sign-in method is not available for the application.'));
      return;
    }
    return this.begin(connector, details, req, res);
  }

  /** A connector finished the upstream part; the interaction cookie proves this is the same browser. */
  @Get(':uid/continue')
  async continue(@Param('uid') uid: string, @Query('k') key: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.details(uid, req, res);
    if (!details) return;
    const outcome = typeof key === 'string' ? await this.pending.take(key, uid) : undefined;
    if (!outcome) {
      this.login.connectorFailed(undefined, String(details.params.client_id), new ConnectorError('upstream_protocol', 'pending_login_unknown', 'hand-over key missing, reused or for another interaction'));
      return this.finishWithError(details, req, res, 'access_denied', 'The sign-in could not be completed. Please start again.');
    }
    if (outcome.kind === 'failure') {
      return this.finishWithError(details, req, res, outcome.oauthError, outcome.message);
    }
    const connector = this.connectors.get(outcome.connectorId);
    if (!connector) return this.finishWithError(details, req, res, 'access_denied', 'This sign-in method is no longer available.');
    const result = await this.login.complete(connector, outcome.identity, String(details.params.client_id));
    if (!result.ok) return this.finishWithError(details, req, res, result.oauthError, result.message);
    await this.host.current.interactionFinished(
      req,
      res,
      {
        login: { accountId: result.accountId, amr: result.amr, acr: result.acr, ts: result.authTime, remember: true },
        // How this session signed in: per-client connector restrictions and single logout.
        [UPSTREAM_RESULT_KEY]: upstreamResult(connector.id, outcome.identity),
      },
      { mergeWithLastSubmission: false },
    );
  }

  @Post(':uid/consent')
  async consent(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.details(uid, req, res);
    if (!details) return;
    if (details.prompt.name !== 'consent') return this.show(uid, req, res);
    const decision = (req.body as Record<string, unknown> | undefined)?.decision;
    if (decision !== 'allow') {
      this.login.connectorFailed(undefined, String(details.params.client_id), new ConnectorError('access_denied', 'consent_denied'));
      await this.host.current.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
      return;
    }
    await this.grantAndFinish(details, req, res);
  }

  @Post(':uid/abort')
  async abort(@Param('uid') uid: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const details = await this.details(uid, req, res);
    if (!details) return;
    this.login.connectorFailed(undefined, String(details.params.client_id), new ConnectorError('access_denied', 'cancelled_by_user'));
    await this.host.current.interactionFinished(req, res, { error: 'access_denied', error_description: 'the sign-in was cancelled' }, { mergeWithLastSubmission: false });
  }

  private async loginStep(details: Details, req: Request, res: Response): Promise<void> {
    const allowed = this.allowedConnectors(details);
    const hint = typeof details.params.idp_hint === 'string' ? details.params.idp_hint : undefined;
    if (hint) {
      const hinted = allowed.find((c) => c.id === hint);
      if (hinted) return this.begin(hinted, details, req, res);
    }
    const loginHint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    const domain = loginHint?.match(EMAIL_DOMAIN)?.[1]?.toLowerCase();
    if (domain) {
      const routed = allowed.find((c) => c.emailDomains.some((d) => d.toLowerCase() === domain));
      if (routed) return this.begin(routed, details, req, res);
    }
    if (allowed.length === 1) return this.begin(allowed[0]!, details, req, res);
    const client = await this.host.current.Client.find(String(details.params.client_id));
    this.ui.send(
      res,
      200,
      loginPage(
        details.uid,
        client?.clientName ?? String(details.params.client_id),
        allowed.map((c) => ({ id: c.id, name: c.name, type: c.type })),
      ),
    );
  }

  private async begin(connector: Connector, details: Details, req: Request, res: Response): Promise<void> {
    try {
      const result = await connector.begin({
        interactionId: details.uid,
        clientId: String(details.params.client_id),
        loginHint: typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined,
        issuer: this.config.issuer,
        acrValues: typeof details.params.acr_values === 'string' ? details.params.acr_values.split(' ') : undefined,
        prompt: typeof details.params.prompt === 'string' ? details.params.prompt.split(' ') : undefined,
        maxAge: details.params.max_age !== undefined && /^\d+$/.test(String(details.params.max_age)) ? Number(details.params.max_age) : undefined,
      });
      if (result.kind === 'redirect') {
        res.status(303).setHeader('location', result.url).setHeader('cache-control', 'no-store').end();
      } else if (result.kind === 'page') {
        res.status(200).set(result.page.headers).send(result.page.html);
      } else {
        this.ui.sendAutoPost(res, result.url, result.fields);
      }
    } catch (error) {
      const failure =
        error instanceof ConnectorError
          ? this.login.connectorFailed(connector.id, String(details.params.client_id), error)
          : this.login.connectorFailed(connector.id, String(details.params.client_id), new ConnectorError('upstream_unavailable', 'begin_failed', String(error)));
      return this.finishWithError(details, req, res, failure.oauthError, failure.message);
    }
  }

  private async consentStep(details: Details, req: Request, res: Response): Promise<void> {
    const clientConfig = this.config.clients.find((c) => c.id === details.params.client_id);
    if (clientConfig?.firstParty) return this.grantAndFinish(details, req, res);
    const promptDetails = details.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const scopes: ConsentScope[] = [];
    for (const scope of promptDetails.missingOIDCScope ?? []) {
      if (scope === 'openid') continue;
      scopes.push({ scope, description: OIDC_SCOPE_TEXT[scope], claims: [] });
    }
    let audience: string | undefined;
    for (const [resource, resourceScopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) {
      // The userinfo "API" carries the OpenID Connect scopes already listed above.
      if (resource === this.host.policy.userinfoResource) continue;
      audience = resource;
      for (const scope of resourceScopes) {
        scopes.push({ scope, description: this.config.scopes[scope]?.description, claims: this.claims.claimsOfScope(scope) });
      }
    }
    if (scopes.length === 0) return this.grantAndFinish(details, req, res);
    const client = await this.host.current.Client.find(String(details.params.client_id));
    this.ui.send(res, 200, consentPage(details.uid, client?.clientName ?? String(details.params.client_id), scopes, audience));
  }

  private async grantAndFinish(details: Details, req: Request, res: Response): Promise<void> {
    const provider = this.host.current;
    const accountId = details.session?.accountId;
    const clientId = String(details.params.client_id);
    // SSO: a session signing in to another client skipped the login step, so run this client's
    // transforms on the session's last upstream identity (a no-op when its claims are current).
    const resumed = await this.login.resumeForClient(accountId, clientId);
    if (!resumed.ok) return this.finishWithError(details, req, res, resumed.oauthError, resumed.message);
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    grant ??= new provider.Grant({ accountId, clientId });
    const promptDetails = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (promptDetails.missingOIDCScope) grant.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
    if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    this.login.consentGranted(accountId, clientId, grantId);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  /** Ends the interaction with an OAuth error and shows the user a page that leads back to the client. */
  private async finishWithError(details: Details, req: Request, res: Response, error: string, message: string): Promise<void> {
    const returnTo = await this.host.current.interactionResult(req, res, { error, error_description: message }, { mergeWithLastSubmission: false });
    const client = await this.host.current.Client.find(String(details.params.client_id));
    this.ui.send(res, error === 'temporarily_unavailable' ? 503 : 403, failurePage(message, returnTo, client?.clientName));
  }

  private allowedConnectors(details: Details): Connector[] {
    const client = this.config.clients.find((c) => c.id === details.params.client_id);
    return this.connectors.forClient(client?.connectors);
  }

  /** Loads the interaction for this browser, or answers with an error page. */
  private async details(uid: string, req: Request, res: Response): Promise<Details | undefined> {
    try {
      const details = await this.host.current.interactionDetails(req, res);
      if (details.uid !== uid) throw new Error('interaction cookie does not match');
      return details;
    } catch {
      this.ui.send(res, 400, failurePage('This sign-in has expired or was started in another browser. Please start again from the application.'));
      return undefined;
    }
  }
}

const OIDC_SCOPE_TEXT: Record<string, string> = {
  profile: 'your name and profile',
  email: 'your email address',
  address: 'your postal address',
  phone: 'your phone number',
  offline_access: 'stay signed in (refresh tokens)',
};
