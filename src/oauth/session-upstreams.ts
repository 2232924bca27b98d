/**
 * How each Herald browser session signed in: the connector, the upstream subject and the
 * connector-private data (SAML NameID and SessionIndex), keyed by oidc-provider's session uid.
 *
 * - The login interaction hands it over in the interaction result (`heraldUpstream`); the login
 *   prompt check below records it against the session when oidc-provider applies the result.
 * - A client restricted to some connectors only gets tokens from a session that signed in
 *   through one of them; otherwise the user signs in again (SSO cannot cross the restriction).
 * - Single logout (upstream-logout.ts) reads it for the session being ended.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { FlowStateStore, UpstreamIdentity } from '../connectors/connector.js';
import type { ClientConfig } from '../config/config.schema.js';

export interface SessionUpstream {
  connectorId: string;
  subject: string;
  private?: Record<string, unknown>;
}

/** The interaction result key that carries the sign-in's upstream to oidc-provider's resume step. */
export const UPSTREAM_RESULT_KEY = 'heraldUpstream';

export function upstreamResult(connectorId: string, identity: UpstreamIdentity): SessionUpstream {
  return { connectorId, subject: identity.subject, ...(identity.private ? { private: identity.private } : {}) };
}

export class SessionUpstreams {
  constructor(
    private readonly store: FlowStateStore,
    private readonly ttlSeconds: number,
  ) {}

  async remember(sessionUid: string, upstream: SessionUpstream): Promise<void> {
    await this.store.put(sessionUid, upstream as unknown as Record<string, unknown>, this.ttlSeconds);
  }

  async get(sessionUid: string): Promise<SessionUpstream | undefined> {
    return (await this.store.peek(sessionUid)) as SessionUpstream | undefined;
  }

  async take(sessionUid: string): Promise<SessionUpstream | undefined> {
    return (await this.store.take(sessionUid)) as SessionUpstream | undefined;
  }
}

/**
 * oidc-provider's interaction policy with one more login check: the session's connector must be
 * one the client may use.
 */
export function interactionPolicyWithConnectorCheck(sessions: SessionUpstreams, clients: Map<string, ClientConfig>) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login')!;
  login.checks.add(
    new Check('connector_not_allowed', 'the session was signed in through a connector this client may not use', 'login_required', async (ctx: KoaContextWithOIDC) => {
      const session = ctx.oidc.session;
      if (!session?.accountId || !session.uid) return Check.NO_NEED_TO_PROMPT; // no_session prompts already
      const fromLogin = (ctx.oidc.result as Record<string, unknown> | undefined)?.[UPSTREAM_RESULT_KEY] as SessionUpstream | undefined;
      let upstream: SessionUpstream | undefined;
      if (fromLogin && ctx.oidc.result?.login) {
        await sessions.remember(session.uid, fromLogin);
        upstream = fromLogin;
      } else {
        upstream = await sessions.get(session.uid);
      }
      const allowed = clients.get(ctx.oidc.client!.clientId)?.connectors;
      if (!allowed) return Check.NO_NEED_TO_PROMPT;
      // Unknown or another connector: the user signs in again through an allowed one.
      return upstream && allowed.includes(upstream.connectorId) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
