import { Global, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
import { UiService } from '../ui/ui.service.js';
import { AuditService } from '../audit/audit.service.js';
import { ConnectorRegistry } from './connector.registry.js';
import { DatabaseFlowStateStore } from './flow-state.store.js';

@Global()
@Module({
  providers: [
    {
      provide: ConnectorRegistry,
      inject: [LOADED_CONFIG, DatabaseFlowStateStore, ExpiringKeysStore, UiService, AuditService],
      useFactory: (loaded: LoadedConfig, flows: DatabaseFlowStateStore, expiring: ExpiringKeysStore, ui: UiService, audit: AuditService) =>
        new ConnectorRegistry(loaded.config.connectors, (connector) => ({
          state: flows.scoped(`connector:${connector.id}`),
          replay: (key, expiresAt) => expiring.claim(`connector:${connector.id}:${key}`, expiresAt),
          issuer: loaded.config.issuer,
          configDir: loaded.configDir,
          development: loaded.config.mode === 'development',
          ui,
          audit: (event) => audit.emit({ ...event, connectorId: connector.id }),
          log: (level, message, detail) =>
            process.stderr.write(`${JSON.stringify({ level, connector: connector.id, msg: message, ...detail })}\n`),
        })),
    },
  ],
  exports: [ConnectorRegistry],
})
export class ConnectorsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly registry: ConnectorRegistry) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.registry.init();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.registry.close();
  }
}
