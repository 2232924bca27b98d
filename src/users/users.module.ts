import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersRepository } from './users.repository.js';
import { AccountLinker } from './account-linker.js';

@Global()
@Module({
  providers: [
    { provide: UsersRepository, inject: [DataSource], useFactory: (ds: DataSource) => new UsersRepository(ds) },
    {
      provide: AccountLinker,
      inject: [UsersRepository, LOADED_CONFIG, AuditService],
      useFactory: (users: UsersRepository, loaded: LoadedConfig, audit: AuditService) => new AccountLinker(users, loaded.config, audit),
    },
  ],
  exports: [UsersRepository, AccountLinker],
})
export class UsersModule {}
