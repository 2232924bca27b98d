/**
 * Which API (audience) an access token is for, and which scopes it may carry.
 *
 * - The API is the one named by RFC 8707 `resource`, else the one that owns the requested API
 *   scopes, else (client credentials) the client's only API.
 * - A sign-in that asks for OpenID Connect scopes only gets an access token for Herald's own
 *   userinfo endpoint (audience `<issuer>/userinfo`): every access token is a JWT for one API.
 * - A request whose scopes belong to two APIs, or to no API, is `invalid_scope`; a resource that
 *   is unknown or not allowed for the client is `invalid_target`.
 */
import { errors, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { OIDC_SCOPES, type ApiConfig, type ClientConfig, type HeraldConfig } from '../config/config.schema.js';
import { ROUTES } from './routes.js';

/** The OpenID Connect scopes a userinfo access token may carry. */
const USERINFO_SCOPES = ['openid', 'profile', 'email', 'address', 'phone'];

const OIDC_SCOPE_SET: ReadonlySet<string> = new Set(OIDC_SCOPES);

export class ResourcePolicy {
  private readonly apiByIdentifier = new Map<string, ApiConfig>();
  private readonly apiById = new Map<string, ApiConfig>();
  private readonly apiByScope = new Map<string, ApiConfig>();
  private readonly clients = new Map<string, ClientConfig>();
  /** Resource server descriptions per (client, API): computed once, asked on every token. */
  private readonly serverInfo = new Map<string, ResourceServer>();

  /** Audience of access tokens for the userinfo endpoint. */
  readonly userinfoResource: string;

  constructor(private readonly config: HeraldConfig) {
    this.userinfoResource = `${config.issuer}${ROUTES.userinfo}`;
    for (const api of config.apis) {
      this.apiByIdentifier.set(api.identifier, api);
      this.apiById.set(api.id, api);
      for (const scope of api.scopes) this.apiByScope.set(scope, api);
    }
    for (const client of config.clients) this.clients.set(client.id, client);
  }

  apiFor(identifier: string): ApiConfig | undefined {
    return this.apiByIdentifier.get(identifier);
  }

  /** The one API that owns all these scopes, if there is exactly one. */
  apiOwningScopes(scopes: string[]): ApiConfig | undefined {
    const owners = new Set(scopes.filter((scope) => !OIDC_SCOPE_SET.has(scope)).map((scope) => this.apiByScope.get(scope)));
    if (owners.size !== 1) return undefined;
    return [...owners][0];
  }

  /** Scopes a client may ask for: its allow-list, or the OIDC scopes and its APIs' scopes. */
  allowedScopes(client: ClientConfig): string[] {
    if (client.scopes) return client.scopes;
    const scopes = new Set<string>(OIDC_SCOPES);
    for (const id of client.apis) for (const scope of this.apiById.get(id)?.scopes ?? []) scopes.add(scope);
    return [...scopes];
  }

  private clientAllows(clientId: string, api: ApiConfig): boolean {
    return this.clients.get(clientId)?.apis.includes(api.id) ?? false;
  }

  private requestedApiScopes(ctx: KoaContextWithOIDC): string[] {
    const raw = ctx.oidc.params?.scope;
    if (typeof raw !== 'string' || !raw) return [];
    return raw.split(' ').filter((scope) => scope && !OIDC_SCOPE_SET.has(scope));
  }

  /** oidc-provider `features.resourceIndicators.defaultResource`. */
  defaultResource = async (ctx: KoaContextWithOIDC, client: { clientId: string }, oneOf?: string[]): Promise<string | string[] | undefined> => {
    if (oneOf) return oneOf.length === 1 ? oneOf[0] : oneOf;
    const scopes = this.requestedApiScopes(ctx);
    const owners = new Set<ApiConfig>();
    for (const scope of scopes) {
      const api = this.apiByScope.get(scope);
      if (!api) throw new errors.InvalidScope('requested scope is not recognized', scope);
      owners.add(api);
    }
    if (owners.size > 1) throw new errors.InvalidScope('requested scopes belong to more than one API', [...owners].map((api) => api.id).join(' '));
    const [owner] = owners;
    if (owner) return owner.identifier;
    const requested = typeof ctx.oidc.params?.scope === 'string' ? ctx.oidc.params.scope.split(' ') : [];
    if (requested.includes('openid') && ctx.oidc.params?.grant_type !== 'client_credentials') return this.userinfoResource;
    if (ctx.oidc.params?.grant_type === 'client_credentials') {
      const apis = this.clients.get(client.clientId)?.apis ?? [];
      if (apis.length === 1) return this.apiById.get(apis[0]!)!.identifier;
      throw new errors.InvalidTarget('a resource or an API scope is required');
    }
    return undefined;
  };

  /** oidc-provider `features.resourceIndicators.getResourceServerInfo`. */
  getResourceServerInfo = async (ctx: KoaContextWithOIDC, resource: string, client: { clientId: string }): Promise<ResourceServer> => {
    if (resource === this.userinfoResource) return this.userinfoServer(ctx);
    const api = this.apiByIdentifier.get(resource);
    if (!api || !this.clientAllows(client.clientId, api)) throw new errors.InvalidTarget();
    for (const scope of this.requestedApiScopes(ctx)) {
      if (!api.scopes.includes(scope)) throw new errors.InvalidScope('requested scope is not owned by the requested resource', scope);
    }
    const cacheKey = `${client.clientId}\u0000${api.id}`;
    let info = this.serverInfo.get(cacheKey);
    if (!info) {
      const allowed = new Set(this.allowedScopes(this.clients.get(client.clientId)!));
      info = {
        scope: api.scopes.filter((scope) => allowed.has(scope)).join(' '),
        audience: api.identifier,
        accessTokenTTL: api.accessTokenTtl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: api.signingAlg ?? this.config.keys.defaultAlgorithm } },
      } as ResourceServer;
      this.serverInfo.set(cacheKey, info);
    }
    // oidc-provider keeps a reference to what it gets: hand out a copy.
    return { ...info, jwt: { sign: { ...(info.jwt!.sign as object) } } } as ResourceServer;
  };

  private userinfoServer(ctx: KoaContextWithOIDC): ResourceServer {
    const apiScope = this.requestedApiScopes(ctx)[0];
    if (apiScope) throw new errors.InvalidScope('requested scope is not owned by the requested resource', apiScope);
    if (ctx.oidc.params?.grant_type === 'client_credentials') throw new errors.InvalidTarget('the userinfo endpoint serves user tokens only');
    return {
      scope: USERINFO_SCOPES.join(' '),
      audience: this.userinfoResource,
      accessTokenTTL: this.config.tokens.userinfoAccessTokenTtl,
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: this.config.keys.defaultAlgorithm } },
    } as ResourceServer;
  }
}
