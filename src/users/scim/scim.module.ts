import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG } from '../../config/config.module.js';
import type { LoadedConfig } from '../../config/config.loader.js';
import { AuditService } from '../../audit/audit.service.js';
import { UsersRepository } from '../users.repository.js';
import { GroupsRepository } from '../groups.repository.js';
import { PrivacyService } from '../privacy.service.js';
import { ScimSchemas } from './scim-schema.js';
import { ScimUsersService, type ScimSettings } from './scim-users.service.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { ScimUsersController } from './scim-users.controller.js';
import { ScimGroupsController } from './scim-groups.controller.js';
import { ScimDiscoveryController } from './scim-discovery.controller.js';
import { ScimFallbackController } from './scim-fallback.controller.js';
import { SCIM_ENABLED } from './scim.tokens.js';

const SCIM_SETTINGS = Symbol('SCIM_SETTINGS');

/** The SCIM 2.0 service provider under /scim/v2 (the fallback controller must stay last). */
@Module({
  controllers: [ScimUsersController, ScimGroupsController, ScimDiscoveryController, ScimFallbackController],
  providers: [
    { provide: SCIM_ENABLED, inject: [LOADED_CONFIG], useFactory: (loaded: LoadedConfig) => loaded.config.scim.enabled },
    { provide: ScimSchemas, inject: [LOADED_CONFIG], useFactory: (loaded: LoadedConfig) => new ScimSchemas(loaded.config.scim) },
    {
      provide: SCIM_SETTINGS,
      inject: [LOADED_CONFIG],
      useFactory: ({ config }: LoadedConfig): ScimSettings => ({
        baseUrl: `${config.issuer}/scim/v2`,
        maxResults: config.scim.maxResults,
        maxScan: config.scim.maxScan,
        maxFilterLength: config.scim.maxFilterLength,
        emailsVerified: config.scim.emailsVerified,
      }),
    },
    {
      provide: ScimUsersService,
      inject: [DataSource, UsersRepository, GroupsRepository, PrivacyService, AuditService, ScimSchemas, SCIM_SETTINGS],
      useFactory: (ds: DataSource, users: UsersRepository, groups: GroupsRepository, privacy: PrivacyService, audit: AuditService, schemas: ScimSchemas, settings: ScimSettings) =>
        new ScimUsersService(ds, users, groups, privacy, audit, schemas, settings),
    },
    {
      provide: ScimGroupsService,
      inject: [DataSource, GroupsRepository, UsersRepository, AuditService, ScimSchemas, SCIM_SETTINGS],
      useFactory: (ds: DataSource, groups: GroupsRepository, users: UsersRepository, audit: AuditService, schemas: ScimSchemas, settings: ScimSettings) =>
        new ScimGroupsService(ds, groups, users, audit, schemas, settings),
    },
  ],
})
export class ScimModule {}
