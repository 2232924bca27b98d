/** /scim/v2/Users (RFC 7644 §3.3–3.6): scim:read for reads and searches, scim:write for changes. */
import { Controller, Delete, Get, Inject, Param, Patch, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequireScope } from '../../auth/require-scope.guard.js';
import { ScimExceptionFilter } from './scim-exception.filter.js';
import { ScimUsersService } from './scim-users.service.js';
import { SCIM_ENABLED } from './scim.tokens.js';
import { ScimSchemas } from './scim-schema.js';
import { assertEnabled, callerOf, preconditionsOf, sendResource, sendScim } from './scim-http.js';
import { ScimError } from './scim.errors.js';
import { MESSAGE_URNS } from './scim-schema.js';

@Controller('scim/v2/Users')
@UseFilters(ScimExceptionFilter)
export class ScimUsersController {
  constructor(
    private readonly users: ScimUsersService,
    private readonly schemas: ScimSchemas,
    @Inject(SCIM_ENABLED) private readonly enabled: boolean,
  ) {}

  @Get()
  @RequireScope('scim:read')
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendScim(res, 200, await this.users.list(req.query as Record<string, unknown>));
  }

  /** POST /Users/.search (RFC 7644 §3.4.3): the query in a SearchRequest body. */
  @Post('.search')
  @RequireScope('scim:read')
  async search(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendScim(res, 200, await this.users.list(searchParams(req.body)));
  }

  @Get(':id')
  @RequireScope('scim:read')
  async get(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.user, 200, await this.users.get(id));
  }

  @Post()
  @RequireScope('scim:write')
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.user, 201, await this.users.create(req.body, callerOf(req)), true);
  }

  @Put(':id')
  @RequireScope('scim:write')
  async replace(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.user, 200, await this.users.replace(id, req.body, preconditionsOf(req), callerOf(req)));
  }

  @Patch(':id')
  @RequireScope('scim:write')
  async patch(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    sendResource(req, res, this.schemas.user, 200, await this.users.patch(id, req.body, preconditionsOf(req), callerOf(req)));
  }

  @Delete(':id')
  @RequireScope('scim:write')
  async delete(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    assertEnabled(this.enabled);
    await this.users.delete(id, preconditionsOf(req), callerOf(req));
    sendScim(res, 204);
  }
}

/** A SearchRequest body (RFC 7644 §3.4.3) as list parameters. */
export function searchParams(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ScimError.invalidSyntax('the request body must be a SearchRequest object');
  const b = body as Record<string, unknown>;
  const schemas = b.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(MESSAGE_URNS.searchRequest)) throw ScimError.invalidSyntax(`"schemas" must contain ${MESSAGE_URNS.searchRequest}`);
  const list = (v: unknown) => (Array.isArray(v) ? v.join(',') : v);
  const num = (v: unknown) => (typeof v === 'number' ? String(v) : v);
  return {
    filter: b.filter,
    sortBy: b.sortBy,
    sortOrder: b.sortOrder,
    startIndex: num(b.startIndex),
    count: num(b.count),
    attributes: list(b.attributes),
    excludedAttributes: list(b.excludedAttributes),
  };
}
