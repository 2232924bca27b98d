import { Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { AuditService } from '../audit/audit.service.js';
import { ClaimsService } from '../claims/claims.service.js';
import { ClaimSnapshotStore } from '../claims/claim-snapshot.store.js';
import { KeyStore } from '../tokens/key.store.js';
import { UsersRepository } from '../users/users.repository.js';
import { AccountLinker } from '../users/account-linker.js';
import { DatabaseFlowStateStore } from '../connectors/flow-state.store.js';
import { SettingsStore } from '../storage/settings.store.js';
import { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
import { ConnectorRoutesController } from '../connectors/connector-routes.controller.js';
import { TRANSFORM_RUNNER, type TransformRunner } from '../transforms/transform-runner.js';
import { AccountUpdater } from '../transforms/account-updates.js';
import { LastIdentityStore } from '../transforms/last-identity.store.js';
import { ConnectorRegistry } from '../connectors/connector.registry.js';
import { ProviderHost } from './provider-host.js';
import { upstreamLogout } from './upstream-logout.js';
import { SessionUpstreams } from './session-upstreams.js';
import { ROUTES } from './routes.js';
import { InteractionController } from './interaction/interaction.controller.js';
import { LoginService } from './interaction/login.service.js';
import { PendingLogins } from './interaction/pending-logins.js';
import { ThresholdRiskPolicy, type RiskPolicy } from './interaction/risk-policy.js';

export const RISK_POLICY = Symbol('RISK_POLICY');

/** oidc-provider and Herald's login interaction around it. */
@Module({
  controllers: [InteractionController, ConnectorRoutesController],
  providers: [
    {
      provide: SessionUpstreams,
      inject: [LOADED_CONFIG, DatabaseFlowStateStore],
      useFactory: (loaded: LoadedConfig, flows: DatabaseFlowStateStore) => new SessionUpstreams(flows.scoped('session-upstream'), loaded.config.tokens.sessionTtl),
    },
    {
      provide: ProviderHost,
      inject: [LOADED_CONFIG, DataSource, KeyStore, UsersRepository, ClaimsService, AuditService, SessionUpstreams, ConnectorRegistry, SettingsStore, ExpiringKeysStore],
      useFactory: (
        loaded: LoadedConfig,
        ds: DataSource,
        keyStore: KeyStore,
        users: UsersRepository,
        claims: ClaimsService,
        audit: AuditService,
        upstream: SessionUpstreams,
        connectors: ConnectorRegistry,
        settings: SettingsStore,
        expiringKeys: ExpiringKeysStore,
      ) =>
        new ProviderHost({
          config: loaded.config,
          dataSource: ds,
          keyStore,
          accounts: users,
          claims,
          audit,
          settings,
          expiringKeys,
          extraParams: ['idp_hint'],
          sessionUpstreams: upstream,
          routeMiddleware: [
            {
              path: `${ROUTES.end_session}/confirm`,
              handle: upstreamLogout(upstream, connectors, (msg, detail) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...detail })}\n`)) as any,
            },
          ],
        }),
    },
    { provide: PendingLogins, inject: [DatabaseFlowStateStore], useFactory: (flows: DatabaseFlowStateStore) => new PendingLogins(flows.scoped('pending')) },
    // Transform risk scores and the optional risk endpoint, with transforms.risk thresholds.
    { provide: RISK_POLICY, inject: [LOADED_CONFIG, AuditService], useFactory: (loaded: LoadedConfig, audit: AuditService): RiskPolicy => new ThresholdRiskPolicy(loaded.config.transforms.risk, audit) },
    {
      provide: LoginService,
      inject: [LOADED_CONFIG, AccountLinker, TRANSFORM_RUNNER, ClaimSnapshotStore, AuditService, RISK_POLICY, AccountUpdater, LastIdentityStore, ConnectorRegistry, UsersRepository],
      useFactory: (
        loaded: LoadedConfig,
        linker: AccountLinker,
        transforms: TransformRunner,
        snapshots: ClaimSnapshotStore,
        audit: AuditService,
        risk: RiskPolicy,
        updater: AccountUpdater,
        identities: LastIdentityStore,
        connectors: ConnectorRegistry,
        users: UsersRepository,
      ) =>
        new LoginService(loaded.config, linker, transforms, snapshots, audit, risk, {
          applyAccountUpdates: (userId, updates, context) => updater.apply(userId, updates, context),
          rememberIdentity: (connectorId, identity) => identities.remember(connectorId, identity),
          lastIdentity: (userId) => identities.latest(userId),
          snapshotWrittenAt: (userId, clientId) => identities.snapshotWrittenAt(userId, clientId),
          findConnector: (id) => connectors.get(id),
          findAccount: (id) => users.findById(id),
        }),
    },
  ],
  exports: [ProviderHost, LoginService],
})
export class OAuthModule implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly host: ProviderHost) {}

  async onModuleInit(): Promise<void> {
    await this.host.start();
  }

  onApplicationShutdown(): void {
    this.host.stop();
  }
}
