/**
 * Admin API for claim transforms: what is loaded, hot reload, and explain (the access token
 * Herald would issue for a sample sign-in, with the origin of each claim).
 */
import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Post, UseFilters } from '@nestjs/common';
import { RequireScope } from '../auth/require-scope.guard.js';
import { AccessTokenErrorFilter } from '../auth/access-token.filter.js';
import { TRANSFORM_ENGINE } from '../transforms/transforms.module.js';
import type { TransformEngine } from '../transforms/transform-engine.js';
import { TransformReloader } from '../transforms/transform-reloader.js';
import { ExplainError, ExplainService, type ExplainRequest } from '../transforms/explain.service.js';
import { displayPath } from '../transforms/transform-errors.js';

@Controller('admin/transforms')
@UseFilters(AccessTokenErrorFilter)
export class TransformsAdminController {
  constructor(
    @Inject(TRANSFORM_ENGINE) private readonly engine: TransformEngine,
    private readonly reloader: TransformReloader,
    private readonly explainer: ExplainService,
  ) {}

  /** Loaded transforms (version = bundle hash), and the problems of the last reload. */
  @Get()
  @RequireScope('admin:read')
  list() {
    const registry = this.engine.registry;
    return {
      transforms: registry.names().map((name) => {
        const t = registry.get(name)!;
        return { name, file: displayPath(t.compiled.file), version: t.compiled.hash, protocols: t.protocols ?? null, loadedAt: new Date(t.loadedAt).toISOString(), runs: t.runtime.stats.runs };
      }),
      problems: registry.problems(),
      lastReload: registry.lastReport ?? null,
    };
  }

  /** Recompiles changed transforms now (production hot reload); broken ones keep their last good version. */
  @Post('reload')
  @HttpCode(200)
  @RequireScope('admin:write')
  async reload() {
    const report = await this.reloader.reload('admin');
    return { ok: report.problems.length === 0, ...report, versions: this.engine.registry.versions() };
  }

  /** Body: { connector, client, scopes, identity, account? | userId? } (see docs/transforms.md, "Explain"). */
  @Post('explain')
  @HttpCode(200)
  @RequireScope('admin:read')
  async explain(@Body() body: ExplainRequest) {
    if (!body || typeof body !== 'object' || typeof body.connector !== 'string' || typeof body.client !== 'string') {
      throw new BadRequestException({ error: 'invalid_request', error_description: 'expected { connector, client, scopes, identity, account? | userId? }' });
    }
    try {
      return await this.explainer.explain(body);
    } catch (error) {
      if (error instanceof ExplainError) throw new BadRequestException({ error: 'invalid_request', error_description: error.message });
      throw error;
    }
  }
}
