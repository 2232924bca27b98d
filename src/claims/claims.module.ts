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

/** Claim sources, in one explicit list; ClaimsService tries them in each claim's order. */
@Global()
@Module({
  providers: [
    { provide: ClaimSnapshotStore, inject: [DataSource], useFactory: (ds: DataSource) => new ClaimSnapshotStore(ds) },
    {
      provide: ClaimsService,
      inject: [LOADED_CONFIG, UsersRepository, ClaimSnapshotStore],
      useFactory: (loaded: LoadedConfig, users: UsersRepository, snapshots: ClaimSnapshotStore) =>
        new ClaimsService(loaded.config, [new TransformClaimSource(snapshots), new AccountClaimSource(users), new StaticClaimSource()]),
    },
  ],
  exports: [ClaimsService, ClaimSnapshotStore],
})
export class ClaimsModule {}
