/**
 * Owns the running oidc-provider instance. The instance is rebuilt (and swapped atomically)
 * when the signing keys change, e.g. after `herald keys rotate` in another process: each
 * instance polls the key table and picks up the new keys within keys.refreshIntervalSeconds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { HeraldConfig } from '../config/config.schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ClaimsService } from '../claims/claims.service.js';
import type { AccountReader } from '../users/account-attributes.js';
import type { KeySnapshot, KeyStore } from '../tokens/key.store.js';
import type { SettingsStore } from '../storage/settings.store.js';
import type { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
import { buildProvider, restoreRotatedRefreshToken } from './provider.factory.js';
import { ROUTES } from './routes.js';
import type { SessionUpstreams } from './session-upstreams.js';
import { ResourcePolicy } from './resource-policy.js';
import { JwtIntrospectionBridge } from './jwt-introspection.js';
import { attachAuditListeners } from './provider-audit.js';
import { providerSecurityHeaders } from './provider-security-headers.js';
import { rfcErrorCodes } from './rfc-error-codes.js';
import { TOKEN_EXCHANGE_GRANT, TOKEN_EXCHANGE_PARAMS, tokenExchangeHandler } from './grants/token-exchange.grant.js';

export interface ProviderHostDependencies {
  config: HeraldConfig;
  dataSource: DataSource;
  keyStore: KeyStore;
  accounts: AccountReader;
  claims: ClaimsService;
  audit: AuditService;
  settings: SettingsStore;
  expiringKeys: ExpiringKeysStore;
  extraParams: string[];
  /** How each session signed in (connector restriction across SSO, single logout). */
  sessionUpstreams: SessionUpstreams;
  /** Koa middleware other modules add around one oidc-provider route (by exact path). */
  routeMiddleware?: Array<{ path: string; handle: KoaMiddleware }>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type KoaMiddleware = (ctx: any, next: () => Promise<void>) => Promise<void>;

export class ProviderHost {
  private provider: Provider | undefined;
  private handler: Handler | undefined;
  private keyVersion = '';
  private timer: NodeJS.Timeout | undefined;
  private currentBridge: JwtIntrospectionBridge | undefined;
  readonly policy: ResourcePolicy;

  constructor(private readonly deps: ProviderHostDependencies) {
    this.policy = new ResourcePolicy(deps.config);
  }

  async start(): Promise<void> {
    const created = await this.deps.keyStore.ensureKeys();
    if (created.length) this.deps.audit.emit({ type: 'key.rotated', data: { created, reason: 'first_start' } });
    await this.rebuild();
    const interval = this.deps.config.keys.refreshIntervalSeconds * 1000;
    this.timer = setInterval(() => void this.refreshKeys().catch(() => undefined), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get current(): Provider {
    if (!this.provider) throw new Error('the authorization server is not started');
    return this.provider;
  }

  /** Node request handler for oidc-provider's routes; always the current instance. */
  readonly handle: Handler = (req, res) => this.handler!(req, res);

  /** Verifies Herald's own access tokens against the current keys (see jwt-introspection.ts). */
  get bridge(): JwtIntrospectionBridge {
    if (!this.currentBridge) throw new Error('the authorization server is not started');
    return this.currentBridge;
  }

  /** Rebuilds the provider if the key set changed in the database; returns whether it did. */
  async refreshKeys(): Promise<boolean> {
    const snapshot = await this.deps.keyStore.snapshot();
    if (snapshot.version === this.keyVersion) return false;
    await this.rebuild(snapshot);
    return true;
  }

  private async rebuild(snapshot?: KeySnapshot): Promise<void> {
    const { config } = this.deps;
    const keys = snapshot ?? (await this.deps.keyStore.snapshot());
    this.keyVersion = keys.version;
    const signingKeys = await this.deps.keyStore.loadSigningKeys(keys.rows);
    const cookieKeys = await this.deps.settings.cookieKeys();
    const provider = buildProvider({
      config,
      dataSource: this.deps.dataSource,
      signingKeys,
      cookieKeys,
      accounts: this.deps.accounts,
      claims: this.deps.claims,
      policy: this.policy,
      extraParams: this.deps.extraParams,
      sessionUpstreams: this.deps.sessionUpstreams,
    });
    const bridge = new JwtIntrospectionBridge(config.issuer, signingKeys, this.deps.expiringKeys, this.deps.accounts);
    provider.registerGrantType(TOKEN_EXCHANGE_GRANT, tokenExchangeHandler(config, this.policy, bridge) as any, TOKEN_EXCHANGE_PARAMS);
    // One middleware in front of oidc-provider, dispatching by path: every extra Koa layer costs
    // on the token path, so only the routes that need Herald's additions get them.
    const byPath = new Map<string, KoaMiddleware>([
      [ROUTES.introspection, bridge.middleware as KoaMiddleware],
      [ROUTES.revocation, bridge.middleware as KoaMiddleware],
      [ROUTES.userinfo, bridge.userinfoMiddleware(this.policy.userinfoResource) as KoaMiddleware],
    ]);
    for (const { path, handle } of this.deps.routeMiddleware ?? []) byPath.set(path, handle);
    provider.use((async (ctx: any, next: () => Promise<void>) => {
      const handle = byPath.get(ctx.path);
      if (handle) await handle(ctx, next);
      else await next();
      if (ctx.status >= 400 && ctx.oidc?.entities?.RotatedRefreshToken) await restoreRotatedRefreshToken(ctx);
      rfcErrorCodes(ctx);
      providerSecurityHeaders(ctx);
    }) as any);
    attachAuditListeners(provider, this.deps.audit, bridge);
    this.currentBridge = bridge;
    this.provider = provider;
    this.handler = provider.callback() as unknown as Handler;
  }
}
