/**
 * Serves each connector's own routes under /connectors/<id>/<path> (OIDC callback, SAML ACS and
 * metadata, OpenID4VP request_uri and direct_post, dev form) and turns their outcome into the
 * hand-over to the interaction.
 */
import { All, Controller, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ConnectorRegistry } from './connector.registry.js';
import { ConnectorError, type ConnectorRouteContext, type UpstreamIdentity } from './connector.js';
import { PendingLogins } from '../oauth/interaction/pending-logins.js';
import { LoginService } from '../oauth/interaction/login.service.js';
import { ProviderHost } from '../oauth/provider-host.js';
import { UiService } from '../ui/ui.service.js';
import { failurePage } from '../oauth/interaction/interaction-pages.js';

@Controller('connectors')
export class ConnectorRoutesController {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly pending: PendingLogins,
    private readonly login: LoginService,
    private readonly host: ProviderHost,
    private readonly ui: UiService,
  ) {}

  @All(':id/*path')
  async route(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const connector = this.registry.get(id);
    const path = req.path.slice(`/connectors/${id}/`.length);
    const route = connector?.routes().find((r) => r.path === path && r.method === req.method);
    if (!connector || !route) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    const ctx: ConnectorRouteContext = {
      req,
      res,
      succeed: async (interactionId: string, identity: UpstreamIdentity) => {
        const key = await this.pending.stash({ kind: 'identity', interactionId, connectorId: id, identity });
        res.status(303).setHeader('location', `/interaction/${encodeURIComponent(interactionId)}/continue?k=${key}`).setHeader('cache-control', 'no-store').end();
      },
      fail: async (interactionId: string | undefined, error: ConnectorError) => {
        const clientId = interactionId ? await this.clientOf(interactionId) : undefined;
        const failure = this.login.connectorFailed(id, clientId, error);
        if (interactionId && clientId) {
          const key = await this.pending.stash({
            kind: 'failure',
            interactionId,
            connectorId: id,
            oauthError: failure.oauthError,
            message: failure.message,
            reason: error.reason,
          });
          res.status(303).setHeader('location', `/interaction/${encodeURIComponent(interactionId)}/continue?k=${key}`).setHeader('cache-control', 'no-store').end();
        } else {
          this.ui.send(res, 400, failurePage(failure.message));
        }
      },
    };
    try {
      await route.handle(ctx);
    } catch (error) {
      if (res.headersSent) return;
      const wrapped = error instanceof ConnectorError ? error : new ConnectorError('upstream_protocol', 'connector_error', String(error), { cause: error });
      await ctx.fail(undefined, wrapped);
    }
  }

  private async clientOf(interactionId: string): Promise<string | undefined> {
    const interaction = await this.host.current.Interaction.find(interactionId);
    const clientId = interaction?.params?.client_id;
    return typeof clientId === 'string' ? clientId : undefined;
  }
}
