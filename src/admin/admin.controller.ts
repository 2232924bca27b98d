/** Herald's admin API (tokens with admin:read / admin:write for the built-in `admin` API). */
import { Controller, Get, Post, UseFilters } from '@nestjs/common';
import { RequireScope } from '../auth/require-scope.guard.js';
import { AccessTokenErrorFilter } from '../auth/access-token.filter.js';
import { KeyStore } from '../tokens/key.store.js';
import { ProviderHost } from '../oauth/provider-host.js';

@Controller('admin')
@UseFilters(AccessTokenErrorFilter)
export class AdminController {
  constructor(
    private readonly keys: KeyStore,
    private readonly host: ProviderHost,
  ) {}

  @Get('keys')
  @RequireScope('admin:read')
  async listKeys() {
    return { keys: await this.keys.list() };
  }

  /** Picks up keys rotated by `herald keys rotate` now instead of at the next poll. */
  @Post('keys/reload')
  @RequireScope('admin:write')
  async reloadKeys() {
    const changed = await this.host.refreshKeys();
    return { reloaded: changed };
  }
}
