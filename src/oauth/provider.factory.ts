/**
 * Builds the oidc-provider instance from Herald's config: clients, scopes, APIs as resource
 * servers with JWT (RFC 9068) access tokens, keys, storage, lifetimes and the policies that
 * Herald tightens (PKCE S256, exact redirect URIs, code flow only, refresh rotation).
 */
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { ClientConfig, HeraldConfig } from '../config/config.schema.js';
import type { HeraldSigningKey } from '../tokens/signing-key.js';
import type { ClaimsService } from '../claims/claims.service.js';
import type { AccountReader } from '../users/account-attributes.js';
import { TypeOrmAdapter } from './typeorm.adapter.js';
import { ResourcePolicy } from './resource-policy.js';
import { ROUTES } from './routes.js';
import { standardClaims, STANDARD_SCOPE_CLAIMS } from '../users/standard-claims.js';
import { renderErrorPage, renderLogoutPage, renderLogoutSuccessPage } from './pages.js';
import { RESERVED_CLAIMS } from '../claims/reserved-claims.js';
import { saveAccessTokenShadow } from './jwt-introspection.js';
import { ACT_CLAIM, PARENT_GRANT } from './grants/token-exchange.grant.js';
import { interactionPolicyWithConnectorCheck, type SessionUpstreams } from './session-upstreams.js';

export interface ProviderDependencies {
  config: HeraldConfig;
  dataSource: DataSource;
  signingKeys: HeraldSigningKey[];
  cookieKeys: string[];
  accounts: AccountReader;
  claims: ClaimsService;
  policy: ResourcePolicy;
  /** Extra interaction parameters Herald's login page understands. */
  extraParams?: string[];
  /** How each session signed in; enables the per-client connector check across SSO. */
  sessionUpstreams?: SessionUpstreams;
}

export function toClientMetadata(client: ClientConfig, policy: ResourcePolicy): ClientMetadata {
  const authMethod = client.authMethod ?? (client.type === 'public' ? 'none' : 'client_secret_basic');
  const grantTypes = client.grantTypes;
  const metadata: ClientMetadata = {
    client_id: client.id,
    client_name: client.name ?? client.id,
    token_endpoint_auth_method: authMethod,
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: grantTypes.includes('authorization_code') ? client.redirectUris : [],
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    id_token_signed_response_alg: client.idTokenSigningAlg,
    scope: policy.allowedScopes(client).join(' '),
    application_type: client.redirectUris.some((uri) => !/^https?:/.test(uri)) ? 'native' : 'web',
  };
  if (client.secret) metadata.client_secret = client.secret;
  if (client.jwks) metadata.jwks = client.jwks as ClientMetadata['jwks'];
  if (client.jwksUri) metadata.jwks_uri = client.jwksUri;
  return metadata;
}

/**
 * oidc-provider rotates the refresh token before it builds the access token. When the request
 * then fails (a claim provider is down, a `resource` the grant does not cover…), the old refresh
 * token is made usable again and the new one is dropped: a failed request must not burn the
 * client's refresh token, or its next refresh would look like reuse and revoke the grant.
 */
export async function restoreRotatedRefreshToken(ctx: KoaContextWithOIDC): Promise<void> {
  const rotated = ctx.oidc?.entities?.RotatedRefreshToken as { jti?: string } | undefined;
  const replacement = ctx.oidc?.entities?.RefreshToken as { jti?: string } | undefined;
  if (!rotated?.jti || ctx.oidc.params?.grant_type !== 'refresh_token') return;
  const adapter = ctx.oidc.provider.RefreshToken.adapter as unknown as TypeOrmAdapter;
  await adapter.unconsume(rotated.jti);
  if (replacement?.jti && replacement.jti !== rotated.jti) await adapter.destroy(replacement.jti);
}

export function buildProvider(deps: ProviderDependencies): Provider {
  const { config, policy } = deps;
  const clientsById = new Map(config.clients.map((client) => [client.id, client]));
  const apiScopes = config.apis.flatMap((api) => api.scopes);

  const configuration: Configuration = {
    adapter: TypeOrmAdapter.factory(deps.dataSource) as unknown as Configuration['adapter'],
    clients: config.clients.map((client) => toClientMetadata(client, policy)),
    jwks: { keys: deps.signingKeys as unknown as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: deps.cookieKeys,
      names: { session: 'herald_session', interaction: 'herald_interaction', resume: 'herald_resume' },
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    routes: ROUTES,
    scopes: ['openid', 'offline_access', 'profile', 'email', 'address', 'phone', ...apiScopes],
    // How and when the user authenticated (upstream amr/acr, auth_time) travel in every ID token.
    claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, ...STANDARD_SCOPE_CLAIMS, openid: ['sub', 'auth_time', 'acr', 'amr'] },
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    pkce: {
      // S256 only. Required for public clients (RFC 9700); confidential clients may use it.
      required: (_ctx, client) => client.clientAuthMethod === 'none' || clientsById.get(client.clientId)?.type === 'public',
    },
    extraParams: deps.extraParams ?? [],
    clockTolerance: 30,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
      AuthorizationCode: config.tokens.authorizationCodeTtl,
      IdToken: config.tokens.idTokenTtl,
      RefreshToken: config.tokens.refreshTokenTtl,
      Interaction: config.tokens.interactionTtl,
      Session: config.tokens.sessionTtl,
      Grant: config.tokens.refreshTokenTtl,
    },
    // Every refresh rotates the refresh token; presenting a rotated one revokes the family.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async (_ctx, source) => !(source as { scopes: Set<string> }).scopes.has('offline_access'),
    findAccount: async (_ctx, sub) => {
      const account = await deps.accounts.findById(sub);
      // An inactive account cannot get tokens: refresh and userinfo fail as for an unknown user.
      if (!account || !account.active) return undefined;
      return {
        accountId: account.id,
        claims: async () => ({ sub: account.id, ...standardClaims(account) }),
      };
    },
    extraTokenClaims: async (ctx, token) => {
      const scopes = [...(token.scopes as Set<string>)];
      if (!deps.claims.hasClaims(scopes)) return undefined;
      const accountId = (token as { accountId?: string }).accountId;
      const { claims } = await deps.claims.shape({
        clientId: token.clientId!,
        accountId,
        scopes,
        audience: (token as { aud?: string }).aud,
        grantId: (token as { grantId?: string }).grantId,
      });
      for (const name of Object.keys(claims)) if (RESERVED_CLAIMS.has(name)) delete claims[name];
      return claims;
    },
    formats: {
      customizers: {
        jwt: async (ctx, token, jwt) => {
          const act = (token as any)[ACT_CLAIM];
          if (act) jwt.payload.act = act;
          // User access tokens get a shadow record for introspection/revocation (see jwt-introspection.ts).
          if (token.kind === 'AccessToken') await saveAccessTokenShadow(ctx.oidc.provider, token as any, jwt.payload as any, policy.userinfoResource, (token as any)[PARENT_GRANT]);
        },
      },
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Confidential clients (resource servers) may introspect access tokens; refresh tokens
        // only their own client; public clients only their own tokens. A deactivated account's
        // tokens are inactive.
        allowedPolicy: async (ctx, client, token) => {
          const own = token.clientId === ctx.oidc.client?.clientId;
          if (client.clientAuthMethod === 'none' && !own) return false;
          if (token.kind === 'RefreshToken' && !own) return false;
          const accountId = (token as { accountId?: string }).accountId;
          if (accountId) {
            const account = await deps.accounts.findById(accountId);
            if (!account?.active) return false;
          }
          return true;
        },
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = renderLogoutPage(config, form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = renderLogoutSuccessPage(config);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: policy.defaultResource as any,
        getResourceServerInfo: policy.getResourceServerInfo as any,
        // Refreshes and code exchanges keep the audience that was granted.
        useGrantedResource: async () => true,
      },
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true },
      claimsParameter: { enabled: false },
      registration: { enabled: false },
    } as Configuration['features'],
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'],
      userinfoSigningAlgValues: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'],
      clientAuthSigningAlgValues: ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'],
    } as Configuration['enabledJWA'],
    interactions: {
      url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
      ...(deps.sessionUpstreams ? { policy: interactionPolicyWithConnectorCheck(deps.sessionUpstreams, clientsById) } : {}),
    },
    renderError: async (ctx, out, error) => {
      ctx.type = 'html';
      ctx.body = renderErrorPage(config, out as unknown as Record<string, string>, error);
    },
    clientBasedCORS: (_ctx, origin, client) => {
      // Browser-based public clients may call the token endpoint from their redirect origins.
      if (origin === 'null') return false;
      return client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false;
    },
    loadExistingGrant: async (ctx) => {
      const grantId =
        ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.server.trustProxy;
  return provider;
}

export type { KoaContextWithOIDC };
