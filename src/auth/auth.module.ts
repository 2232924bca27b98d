import { Global, Module } from '@nestjs/common';
import { ProviderHost } from '../oauth/provider-host.js';
import { OAuthModule } from '../oauth/oauth.module.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { RequireScopeGuard } from './require-scope.guard.js';

/** Protects Herald's own APIs (SCIM, admin) with Herald access tokens. */
@Global()
@Module({
  imports: [OAuthModule],
  providers: [
    {
      provide: AccessTokenVerifier,
      inject: [ProviderHost],
      useFactory: (host: ProviderHost) => new AccessTokenVerifier(host),
    },
    RequireScopeGuard,
  ],
  exports: [AccessTokenVerifier, RequireScopeGuard],
})
export class AuthModule {}
