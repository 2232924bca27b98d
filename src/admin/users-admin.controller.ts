/**
 * A person's data through the admin API: GET /admin/users/:user/export (admin:read) and
 * DELETE /admin/users/:user (admin:write). :user is the Herald user id or the userName.
 */
import { Controller, Delete, Get, HttpCode, NotFoundException, Param, Req, UseFilters } from '@nestjs/common';
import { RequireScope, type RequestWithCaller } from '../auth/require-scope.guard.js';
import { AccessTokenErrorFilter } from '../auth/access-token.filter.js';
import { PrivacyService, UserNotFoundError, type Actor } from '../users/privacy.service.js';

function actor(req: RequestWithCaller): Actor {
  return { clientId: req.caller?.clientId ?? null, via: 'admin' };
}

@Controller('admin/users')
@UseFilters(AccessTokenErrorFilter)
export class UsersAdminController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get(':user/export')
  @RequireScope('admin:read')
  async export(@Param('user') user: string, @Req() req: RequestWithCaller) {
    try {
      return await this.privacy.export(user, actor(req));
    } catch (error) {
      throw notFound(error);
    }
  }

  @Delete(':user')
  @HttpCode(200)
  @RequireScope('admin:write')
  async erase(@Param('user') user: string, @Req() req: RequestWithCaller) {
    try {
      const result = await this.privacy.erase(user, actor(req));
      return { deleted: true, pseudonym: result.pseudonym, removed: { ...result, pseudonym: undefined } };
    } catch (error) {
      throw notFound(error);
    }
  }
}

function notFound(error: unknown): unknown {
  return error instanceof UserNotFoundError ? new NotFoundException({ error: 'not_found', error_description: 'no such user' }) : error;
}
