import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG, RUNTIME_OPTIONS, type RuntimeOptions } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { openDataSource } from './data-source.js';
import { SettingsStore } from './settings.store.js';
import { ExpiringKeysStore } from './expiring-keys.store.js';
import { DatabaseFlowStateStore } from '../connectors/flow-state.store.js';
import { sweepExpiredPayloads } from '../oauth/typeorm.adapter.js';

const SWEEP_INTERVAL_MS = 60_000;

/** The database: opened (with migrations) at start, swept of expired rows, closed at shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [LOADED_CONFIG, RUNTIME_OPTIONS],
      useFactory: (loaded: LoadedConfig, runtime: RuntimeOptions) =>
        openDataSource({ url: loaded.config.storage.url, schema: runtime.databaseSchema }),
    },
    { provide: SettingsStore, inject: [DataSource], useFactory: (ds: DataSource) => new SettingsStore(ds) },
    { provide: ExpiringKeysStore, inject: [DataSource], useFactory: (ds: DataSource) => new ExpiringKeysStore(ds) },
    { provide: DatabaseFlowStateStore, inject: [DataSource], useFactory: (ds: DataSource) => new DatabaseFlowStateStore(ds) },
  ],
  exports: [DataSource, SettingsStore, ExpiringKeysStore, DatabaseFlowStateStore],
})
export class StorageModule implements OnApplicationShutdown {
  private readonly timer: NodeJS.Timeout;

  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    private readonly expiring: ExpiringKeysStore,
    private readonly flows: DatabaseFlowStateStore,
  ) {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  private async sweep(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    await Promise.allSettled([sweepExpiredPayloads(this.dataSource), this.expiring.sweep(), this.flows.sweep()]);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
