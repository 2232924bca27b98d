import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { UsersRepository } from './users.repository.js';
import { GroupsRepository } from './groups.repository.js';
import { PrivacyService } from './privacy.service.js';
import { ProviderClaimSource } from '../claims/sources/provider.source.js';

/** Groups storage and personal-data export/erasure, shared by SCIM, the admin API and the CLI. */
@Global()
@Module({
  providers: [
    { provide: GroupsRepository, inject: [DataSource], useFactory: (ds: DataSource) => new GroupsRepository(ds) },
    {
      provide: PrivacyService,
      inject: [DataSource, UsersRepository, GroupsRepository, AuditService, ProviderClaimSource],
      useFactory: (ds: DataSource, users: UsersRepository, groups: GroupsRepository, audit: AuditService, provider: ProviderClaimSource) => {
        const privacy = new PrivacyService(ds, users, groups, audit);
        // Cached claim-provider answers in this process belong to the person too.
        privacy.onErase((userId) => provider.forgetUser(userId));
        return privacy;
      },
    },
  ],
  exports: [GroupsRepository, PrivacyService],
})
export class PrivacyModule {}
