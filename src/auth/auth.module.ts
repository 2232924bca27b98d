import { Global, Module } from '@nestjs/common';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
import { ProviderHost } from '../oauth/provider-host.js';
import { OAuthModule } from '../oauth/oauth.module.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { UsersRepository } from '../users/users.repository.js';
import { RequireScopeGuard } from './require-scope.guard.js';

/** Protects Herald's own APIs (SCIM, admin) with Herald access tokens. */
@Global()
@Module({
  imports: [OAuthModule],
  providers: [
    {
      provide: AccessTokenVerifier,
      inject: [LOADED_CONFIG, ProviderHost, ExpiringKeysStore, UsersRepository],
      useFactory: (loaded: LoadedConfig, host: ProviderHost, revoked: ExpiringKeysStore, users: UsersRepository) =>
        new AccessTokenVerifier(loaded.config.issuer, host, revoked, users),
    },
    RequireScopeGuard,
  ],
  exports: [AccessTokenVerifier, RequireScopeGuard],
})
export class AuthModule {}
