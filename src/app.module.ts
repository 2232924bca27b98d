/** Composition only: which modules make up Herald. */
import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type RuntimeOptions } from './config/config.module.js';
import type { LoadedConfig } from './config/config.loader.js';
import { StorageModule } from './storage/storage.module.js';
import { AuditModule } from './audit/audit.module.js';
import { UsersModule } from './users/users.module.js';
import { TokensModule } from './tokens/tokens.module.js';
import { ClaimsModule } from './claims/claims.module.js';
import { UiModule } from './ui/ui.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { TransformsModule } from './transforms/transforms.module.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AdminModule } from './admin/admin.module.js';
import { HealthController } from './health/health.controller.js';
import { DemoModule } from './demo/demo.module.js';
import { PrivacyModule } from './users/privacy.module.js';
import { ScimModule } from './users/scim/scim.module.js';

@Module({})
export class AppModule {
  static forRoot(loaded: LoadedConfig, runtime: RuntimeOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(loaded, runtime),
        StorageModule,
        AuditModule,
        UsersModule,
        TokensModule,
        ClaimsModule,
        UiModule,
        ConnectorsModule,
        TransformsModule,
        OAuthModule,
        AuthModule,
        AdminModule,
        DemoModule,
        PrivacyModule,
        ScimModule,
      ],
      controllers: [HealthController],
    };
  }
}
