/**
 * OAuth 2.0 Token Exchange (RFC 8693), delegation profile: an API that received a Herald access
 * token for itself exchanges it for a token to call another API on the same user's behalf.
 *
 * Policy (config `clients[].tokenExchange`):
 * - the exchanging client must have the token-exchange grant type and list the APIs whose
 *   tokens it may exchange (`subjectApis`); the target API must be one of its `apis`;
 * - the subject token must be an active Herald access token (signature, issuer, expiry, not
 *   revoked, grant still alive, account still active);
 * - the new token is for exactly one API, carries the requested scopes of that API (or the
 *   subject token's scopes that the API owns), the user's claims for them, and an `act` claim
 *   naming the exchanging client (nested when the subject token was itself delegated);
 * - on the subject's own API the scopes can only narrow; the new token never outlives the
 *   subject token, and dies with the subject's grant (logout, revocation, refresh reuse).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { HeraldConfig } from '../../config/config.schema.js';
import type { JwtIntrospectionBridge } from '../jwt-introspection.js';
import type { ResourcePolicy } from '../resource-policy.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

export const TOKEN_EXCHANGE_PARAMS = [
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'audience',
  'resource',
  'scope',
];

/** The delegation chain for the `act` claim; kept on the token object for the JWT customizer. */
export const ACT_CLAIM = Symbol('herald.act');
/** The subject token's grant: revoking it (logout, refresh reuse) ends the delegated token too. */
export const PARENT_GRANT = Symbol('herald.parent-grant');

export function tokenExchangeHandler(config: HeraldConfig, policy: ResourcePolicy, bridge: JwtIntrospectionBridge) {
  const clients = new Map(config.clients.map((client) => [client.id, client]));

  return async function handleTokenExchange(ctx: KoaContextWithOIDC): Promise<void> {
    const params = ctx.oidc.params as Record<string, string | undefined>;
    const client = ctx.oidc.client!;
    const clientConfig = clients.get(client.clientId);
    const subjectApis = clientConfig?.tokenExchange?.subjectApis ?? [];

    if (!params.subject_token) throw new errors.InvalidRequest('missing required parameter subject_token');
    if (params.subject_token_type !== ACCESS_TOKEN_TYPE && params.subject_token_type !== JWT_TYPE) {
      throw new errors.InvalidRequest('unsupported subject_token_type');
    }
    if (params.actor_token || params.actor_token_type) throw new errors.InvalidRequest('actor tokens are not supported');
    if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
      throw new errors.InvalidRequest('unsupported requested_token_type');
    }

    const verified = await bridge.verifyActiveWithShadow(ctx.oidc.provider, params.subject_token);
    if (!verified) throw new errors.InvalidGrant('subject token is invalid, expired or revoked');
    const subject = verified.payload;
    const subjectAudiences: string[] = Array.isArray(subject.aud) ? subject.aud : [subject.aud];
    const subjectApi = subjectAudiences.map((aud) => policy.apiFor(aud)).find(Boolean);
    if (!subjectApi || !subjectApis.includes(subjectApi.id)) {
      throw new errors.UnauthorizedClient('the client may not exchange tokens of this API');
    }

    // Target API: `resource` (RFC 8707) or `audience` (an API identifier or id), else by scope.
    const requested = params.resource ?? params.audience;
    const target = requested
      ? policy.apiFor(requested) ?? config.apis.find((api) => api.id === requested)
      : policy.apiOwningScopes((params.scope ?? '').split(' ').filter(Boolean));
    if (!target || !clientConfig?.apis.includes(target.id)) throw new errors.InvalidTarget();

    const allowed = new Set(policy.allowedScopes(clientConfig).filter((scope) => target.scopes.includes(scope)));
    const held = new Set(typeof subject.scope === 'string' ? subject.scope.split(' ') : []);
    let scopes: string[];
    if (params.scope) {
      scopes = params.scope.split(' ').filter(Boolean);
      const refused = scopes.find((scope) => !allowed.has(scope));
      if (refused) throw new errors.InvalidScope('requested scope is not allowed for the target API', refused);
      // Exchanging into the subject's own API can narrow its scopes, never widen them.
      const widened = target.id === subjectApi.id ? scopes.find((scope) => !held.has(scope)) : undefined;
      if (widened) throw new errors.InvalidScope('requested scope exceeds the subject token', widened);
    } else {
      scopes = [...held].filter((scope) => allowed.has(scope));
      if (!scopes.length) throw new errors.InvalidScope('scope is required for the target API', '');
    }

    const provider = ctx.oidc.provider;
    // The bridge already refused subjects whose account is deactivated.
    const userBound = subject.sub !== subject.client_id;
    // Never outlive the subject token: a chain of exchanges cannot extend a delegation.
    const expiresIn = Math.max(1, Math.min(target.accessTokenTtl, Number(subject.exp) - Math.floor(Date.now() / 1000)));
    const token = userBound
      ? new provider.AccessToken({ accountId: subject.sub, client, gty: 'token_exchange', scope: scopes.join(' '), expiresIn } as any)
      : new provider.ClientCredentials({ client, scope: scopes.join(' '), expiresIn } as any);
    token.resourceServer = new provider.ResourceServer(target.identifier, await policy.getResourceServerInfo(ctx, target.identifier, client));
    (token as any)[ACT_CLAIM] = { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) };
    const parentGrant = verified.shadow?.grantId ?? verified.shadow?.parentGrantId;
    if (userBound && parentGrant) (token as any)[PARENT_GRANT] = parentGrant;

    ctx.oidc.entity(userBound ? 'AccessToken' : 'ClientCredentials', token);
    const value = await token.save();
    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: token.expiration,
      scope: token.scope,
    };
  };
}
