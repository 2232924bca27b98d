/**
 * Everything else under /scim/v2 answers in the SCIM error format: /Bulk and /Me are not
 * implemented (501, as /ServiceProviderConfig says), other paths are 404.
 */
import { All, Controller, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import { ScimExceptionFilter } from './scim-exception.filter.js';
import { ScimError } from './scim.errors.js';

@Controller('scim/v2')
@UseFilters(ScimExceptionFilter)
export class ScimFallbackController {
  @All('Bulk')
  bulk(): never {
    throw ScimError.notImplemented('bulk operations are not supported');
  }

  @All('Me')
  me(): never {
    throw ScimError.notImplemented('/Me is not supported: SCIM clients here are services, not users');
  }

  @All('{*path}')
  unknown(@Req() req: Request): never {
    throw ScimError.notFound(`no SCIM endpoint ${req.method} ${req.path}`);
  }
}
