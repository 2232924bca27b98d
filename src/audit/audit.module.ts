import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG, RUNTIME_OPTIONS, type RuntimeOptions } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { AuditService } from './audit.service.js';

@Global()
@Module({
  providers: [
    {
      provide: AuditService,
      inject: [DataSource, LOADED_CONFIG, RUNTIME_OPTIONS],
      useFactory: (ds: DataSource, loaded: LoadedConfig, runtime: RuntimeOptions) =>
        new AuditService(ds, { log: loaded.config.audit.log && !runtime.quiet, database: loaded.config.audit.database }),
    },
  ],
  exports: [AuditService],
})
export class AuditModule implements OnApplicationShutdown {
  constructor(private readonly audit: AuditService) {}

  async onApplicationShutdown(): Promise<void> {
    await this.audit.close();
  }
}
