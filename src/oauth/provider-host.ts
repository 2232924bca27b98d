/**
 * Owns the running oidc-provider instance. The instance is rebuilt (and swapped atomically)
 * when the signing keys change, e.g. after `herald keys rotate` in another process: each
 * instance polls the key table and picks up the new keys within keys.refreshIntervalSeconds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { DataSource } from 'typeorm';
import type { HeraldConfig } from '../config/config.schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ClaimsService } from '../claims/claims.service.js';
import type { AccountReader } from '../users/account-attributes.js';
import type { KeyStore } from '../tokens/key.store.js';
import { SettingsStore } from '../storage/settings.store.js';
import { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
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
  extraParams?: string[];
  /** How each session signed in (connector restriction across SSO, single logout). */
  sessionUpstreams?: SessionUpstreams;
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
  readonly policy: ResourcePolicy;
  private readonly settings: SettingsStore;
  private readonly expiringKeys: ExpiringKeysStore;
  private readonly listeners: Array<(provider: Provider) => void> = [];
  private verificationKeys = new Map<string, KeyObject>();

  constructor(private readonly deps: ProviderHostDependencies) {
    this.policy = new ResourcePolicy(deps.config);
    this.settings = new SettingsStore(deps.dataSource);
    this.expiringKeys = new ExpiringKeysStore(deps.dataSource);
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

  /** Subscribe to instance swaps (e.g. to re-register event listeners). */
  onProvider(listener: (provider: Provider) => void): void {
    this.listeners.push(listener);
    if (this.provider) listener(this.provider);
  }

  /** Public key of a published signing key, for verifying Herald's own tokens. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.verificationKeys.get(kid);
  }

  /** Rebuilds the provider if the key set changed in the database; returns whether it did. */
  async refreshKeys(): Promise<boolean> {
    await this.deps.keyStore.prune();
    const version = await this.deps.keyStore.version();
    if (version === this.keyVersion) return false;
    await this.rebuild();
    return true;
  }

  private async rebuild(): Promise<void> {
    const { config } = this.deps;
    this.keyVersion = await this.deps.keyStore.version();
    const signingKeys = await this.deps.keyStore.loadSigningKeys();
    const cookieKeys = await this.settings.cookieKeys();
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
    const bridge = new JwtIntrospectionBridge(config.issuer, signingKeys, this.expiringKeys);
    provider.registerGrantType(TOKEN_EXCHANGE_GRANT, tokenExchangeHandler(config, this.policy, bridge, this.deps.accounts) as any, TOKEN_EXCHANGE_PARAMS);
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
    for (const listener of this.listeners) listener(provider);
    this.verificationKeys = new Map(signingKeys.map((key) => [key.kid!, key.keyObject()]));
    this.provider = provider;
    this.handler = provider.callback() as unknown as Handler;
  }
}
