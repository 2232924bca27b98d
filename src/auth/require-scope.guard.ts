/**
 * `@RequireScope('scim:write')` on a controller or handler: the request needs a Herald access
 * token for the built-in API that owns the scope. The verified caller lands on `req.caller`.
 */
import { CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Inject } from '@nestjs/common';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { BUILTIN_SCOPES } from '../config/builtin-apis.js';
import { AccessTokenVerifier, type VerifiedCaller } from './access-token.verifier.js';

const SCOPE_KEY = 'herald:required-scope';

export type RequestWithCaller = Request & { caller?: VerifiedCaller };

@Injectable()
export class RequireScopeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
    @Inject(LOADED_CONFIG) private readonly loaded: LoadedConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<string | undefined>(SCOPE_KEY, [context.getHandler(), context.getClass()]);
    if (!scope) return true;
    const apiId = BUILTIN_SCOPES[scope];
    const api = this.loaded.config.apis.find((a) => a.id === apiId);
    if (!api) throw new Error(`no built-in API owns scope ${scope}`);
    const req = context.switchToHttp().getRequest<RequestWithCaller>();
    // AccessTokenError propagates; each module's exception filter renders it in its own format.
    req.caller = await this.verifier.verify(req.headers.authorization, api.identifier, scope);
    return true;
  }
}

export function RequireScope(scope: keyof typeof BUILTIN_SCOPES | string) {
  return applyDecorators(SetMetadata(SCOPE_KEY, scope), UseGuards(RequireScopeGuard));
}
