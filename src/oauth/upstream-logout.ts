/**
 * Single logout towards the upstream: when a user signs out of Herald (RP-initiated logout,
 * "Yes, sign me out"), Herald's session ends first; then, if the sign-in came through a
 * connector that supports logout (SAML SLO), the browser goes on to the upstream IdP, which
 * returns it to the connector's logout endpoint and from there to where oidc-provider would have
 * sent it (the client's post_logout_redirect_uri, or Herald's signed-out page).
 *
 * The connector-private data of the session's sign-in (SAML NameID and SessionIndex) is kept
 * server side per Herald session (session-upstreams.ts).
 */
import type { ConnectorRegistry } from '../connectors/connector.registry.js';
import type { SessionUpstreams } from './session-upstreams.js';
import { ROUTES } from './routes.js';

type LogoutContext = {
  method: string;
  path: string;
  status: number;
  oidc?: { session?: { accountId?: string; uid?: string }; params?: { logout?: unknown } };
  response: { get(name: string): string };
  redirect(url: string): void;
};

/** Koa middleware (oidc-provider `use`) on the logout confirmation. */
export function upstreamLogout(sessions: SessionUpstreams, connectors: ConnectorRegistry, log: (message: string, detail: Record<string, unknown>) => void) {
  const confirmPath = `${ROUTES.end_session}/confirm`;
  return async (ctx: LogoutContext, next: () => Promise<void>): Promise<void> => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== confirmPath || ctx.status !== 303) return;
    // The session object of this request still names its uid after oidc-provider destroyed it.
    const sessionUid = ctx.oidc?.session?.uid;
    if (!sessionUid || !ctx.oidc?.params?.logout) return;
    const upstream = await sessions.take(sessionUid);
    if (!upstream?.private) return;
    const connector = connectors.get(upstream.connectorId);
    const returnTo = ctx.response.get('location');
    try {
      const url = await connector?.logoutUrl?.({ subject: upstream.subject, private: upstream.private }, returnTo);
      if (url) {
        ctx.status = 303;
        ctx.redirect(url);
      }
    } catch (error) {
      // The Herald session has ended either way; the upstream session outlives it.
      log('upstream logout could not start', { connector: upstream.connectorId, error: String(error) });
    }
  };
}
