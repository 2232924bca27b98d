import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { UsersRepository } from '../users/users.repository.js';
import { ClaimsService } from './claims.service.js';
import { ClaimSnapshotStore } from './claim-snapshot.store.js';
import { StaticClaimSource } from './sources/static.source.js';
import { AccountClaimSource } from './sources/account.source.js';
import { TransformClaimSource } from './sources/transform.source.js';
import { ProviderClaimSource } from './sources/provider.source.js';
import { ClaimProviderStore } from './claim-provider.store.js';
import { AuditService } from '../audit/audit.service.js';

/** Claim sources, in one explicit list; ClaimsService tries them in each claim's order. */
@Global()
@Module({
  providers: [
    { provide: ClaimSnapshotStore, inject: [DataSource], useFactory: (ds: DataSource) => new ClaimSnapshotStore(ds) },
    {
      provide: ProviderClaimSource,
      inject: [LOADED_CONFIG, UsersRepository, DataSource, AuditService],
      useFactory: (loaded: LoadedConfig, users: UsersRepository, ds: DataSource, audit: AuditService) =>
        new ProviderClaimSource(loaded.config.claimProviders, users, new ClaimProviderStore(ds), audit),
    },
    {
      provide: ClaimsService,
      inject: [LOADED_CONFIG, UsersRepository, ClaimSnapshotStore, ProviderClaimSource],
      useFactory: (loaded: LoadedConfig, users: UsersRepository, snapshots: ClaimSnapshotStore, provider: ProviderClaimSource) =>
        new ClaimsService(loaded.config, [new TransformClaimSource(snapshots), new AccountClaimSource(users), new StaticClaimSource(), provider]),
    },
  ],
  exports: [ClaimsService, ClaimSnapshotStore, ProviderClaimSource],
})
export class ClaimsModule {}
