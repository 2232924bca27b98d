/** Turns oidc-provider's events into Herald audit events. */
import type Provider from 'oidc-provider';
import type { AuditService } from '../audit/audit.service.js';
import type { JwtIntrospectionBridge } from './jwt-introspection.js';

type AnyCtx = { oidc?: any; path?: string; method?: string };

function clientOf(ctx: AnyCtx): string | null {
  return ctx.oidc?.client?.clientId ?? (typeof ctx.oidc?.params?.client_id === 'string' ? ctx.oidc.params.client_id : null);
}

export function attachAuditListeners(provider: Provider, audit: AuditService, bridge: JwtIntrospectionBridge): void {
  provider.on('grant.success', (ctx: AnyCtx) => {
    const entities = ctx.oidc?.entities ?? {};
    const token = entities.AccessToken ?? entities.ClientCredentials;
    audit.emit({
      type: 'token.issued',
      clientId: clientOf(ctx),
      userId: token?.accountId ?? entities.Account?.accountId ?? null,
      data: {
        grant_type: ctx.oidc?.params?.grant_type,
        scope: token?.scope,
        aud: token?.aud,
        jti: token?.jti,
        issued: ['access', entities.RefreshToken ? 'refresh' : null, entities.IdToken || ctx.oidc?.params?.scope?.includes?.('openid') ? 'id' : null].filter(Boolean),
      },
    });
  });

  const refused = (endpoint: string) => (ctx: AnyCtx, error: any) => {
    audit.emit({
      type: 'token.refused',
      clientId: clientOf(ctx),
      reason: error?.error ?? 'invalid_request',
      data: { endpoint, grant_type: ctx.oidc?.params?.grant_type, detail: error?.error_detail ?? error?.error_description },
    });
  };
  provider.on('grant.error', refused('token'));
  provider.on('introspection.error', refused('introspection'));
  provider.on('revocation.error', refused('revocation'));
  provider.on('authorization.error', refused('authorization'));
  provider.on('userinfo.error', refused('userinfo'));

  provider.on('grant.revoked', (ctx: AnyCtx, grantId: string) => {
    audit.emit({
      type: 'token.revoked',
      clientId: clientOf(ctx),
      reason: ctx.oidc?.route === 'revocation' ? 'revoked_by_client' : 'grant_revoked',
      data: { grant_id: grantId, route: ctx.oidc?.route },
    });
  });

  const destroyed = (kind: string) => (token: any) => {
    if (kind !== 'refresh_token') void bridge.recordRevoked(token.jti, token.exp);
    audit.emit({ type: 'token.revoked', clientId: token.clientId ?? null, userId: token.accountId ?? null, reason: 'revoked', data: { kind, jti: token.jti } });
  };
  provider.on('access_token.destroyed', destroyed('access_token'));
  provider.on('client_credentials.destroyed', destroyed('client_credentials'));
  provider.on('refresh_token.destroyed', destroyed('refresh_token'));

  provider.on('server_error', (ctx: AnyCtx, error: Error) => {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: 'authorization server error', path: ctx.path, method: ctx.method, error: error?.message, stack: error?.stack })}\n`,
    );
  });
}
