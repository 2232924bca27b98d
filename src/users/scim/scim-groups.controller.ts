/** /scim/v2/Groups (RFC 7644 §3.3–3.6). */
import { Controller, Delete, Get, Inject, Param, Patch, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequireScope } from '../../auth/require-scope.guard.js';
import { ScimExceptionFilter } from './scim-exception.filter.js';
import { ScimGroupsService } from './scim-groups.service.js';
import { SCIM_ENABLED } from './scim.tokens.js';
import { ScimSchemas } from './scim-schema.js';
import { assertEnabled, callerOf, preconditionsOf, sendResource, sendScim, wantsProjection } from './scim-http.js';
import { searchParams } from './scim-users.controller.js';

@Controller('scim/v2/Groups')
@UseFilters(ScimExceptionFilter)
export class ScimGroupsController {
  constructor(
    private readonly groups: ScimGroupsService,
    private readonly schemas: ScimSchemas,
    @Inject(SCIM_ENABLED) private readonly enabled: boolean,
  ) {}

  @Get()
  @RequireScope('scim:read')
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendScim(res, 200, await this.groups.list(req.query as Record<string, unknown>));
  }

  @Post('.search')
  @RequireScope('scim:read')
  async search(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendScim(res, 200, await this.groups.list(searchParams(req.body)));
  }

  @Get(':id')
  @RequireScope('scim:read')
  async get(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.group, 200, await this.groups.get(id));
  }

  @Post()
  @RequireScope('scim:write')
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.group, 201, await this.groups.create(req.body, callerOf(req)), true);
  }

  @Put(':id')
  @RequireScope('scim:write')
  async replace(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.group, 200, await this.groups.replace(id, req.body, preconditionsOf(req), callerOf(req)));
  }

  /** 204 (what Microsoft Entra expects), or 200 with the group when attributes were requested. */
  @Patch(':id')
  @RequireScope('scim:write')
  async patch(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    const doc = await this.groups.patch(id, req.body, preconditionsOf(req), callerOf(req));
    if (wantsProjection(req)) return sendResource(req, res, this.schemas.group, 200, doc);
    sendScim(res, 204, undefined, { etag: String(doc.meta.version) });
  }

  @Delete(':id')
  @RequireScope('scim:write')
  async delete(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    await this.groups.delete(id, preconditionsOf(req), callerOf(req));
    sendScim(res, 204);
  }
}
