/**
 * Discovery (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and /Schemas describe exactly
 * what this server implements — the Herald extension as configured, filter.maxResults as
 * configured, no bulk, no password change. A `filter` on these endpoints is refused with 403.
 */
import { Controller, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequireScope } from '../../auth/require-scope.guard.js';
import { LOADED_CONFIG } from '../../config/config.module.js';
import type { LoadedConfig } from '../../config/config.loader.js';
import { ScimExceptionFilter } from './scim-exception.filter.js';
import { SCIM_ENABLED } from './scim.tokens.js';
import { MESSAGE_URNS, ScimSchemas, type ResourceType, type SchemaDefinition } from './scim-schema.js';
import { assertEnabled, sendScim } from './scim-http.js';
import { ScimError } from './scim.errors.js';

const SPC_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

@Controller('scim/v2')
@UseFilters(ScimExceptionFilter)
export class ScimDiscoveryController {
  private readonly base: string;

  constructor(
    private readonly schemas: ScimSchemas,
    @Inject(LOADED_CONFIG) private readonly loaded: LoadedConfig,
    @Inject(SCIM_ENABLED) private readonly enabled: boolean,
  ) {
    this.base = `${loaded.config.issuer}/scim/v2`;
  }

  private check(req: Request): void {
    assertEnabled(this.enabled);
    if (req.query.filter !== undefined) throw ScimError.forbidden('filters are not supported on discovery endpoints');
  }

  private list(resources: unknown[]) {
    return { schemas: [MESSAGE_URNS.listResponse], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
  }

  @Get('ServiceProviderConfig')
  @RequireScope('scim:read')
  serviceProviderConfig(@Req() req: Request, @Res() res: Response): void {
    this.check(req);
    const api = this.loaded.config.apis.find((a) => a.id === 'scim');
    sendScim(res, 200, {
      schemas: [SPC_URN],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: this.loaded.config.scim.maxResults },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [
        {
          type: 'oauthbearertoken',
          name: 'OAuth Bearer Token',
          description: `An access token from this Herald (client credentials grant) for the API ${api?.identifier ?? `${this.base}`}, with scope scim:read and/or scim:write.`,
          specUri: 'https://www.rfc-editor.org/info/rfc6750',
          primary: true,
        },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${this.base}/ServiceProviderConfig` },
    });
  }

  private resourceType(rt: ResourceType) {
    return {
      schemas: [RESOURCE_TYPE_URN],
      id: rt.name,
      name: rt.name,
      endpoint: rt.endpoint,
      description: rt.description,
      schema: rt.core.id,
      ...(rt.extensions.length ? { schemaExtensions: rt.extensions.map((e) => ({ schema: e.id, required: false })) } : {}),
      meta: { resourceType: 'ResourceType', location: `${this.base}/ResourceTypes/${rt.name}` },
    };
  }

  @Get('ResourceTypes')
  @RequireScope('scim:read')
  resourceTypes(@Req() req: Request, @Res() res: Response): void {
    this.check(req);
    sendScim(res, 200, this.list([this.resourceType(this.schemas.user), this.resourceType(this.schemas.group)]));
  }

  @Get('ResourceTypes/:name')
  @RequireScope('scim:read')
  resourceTypeByName(@Param('name') name: string, @Req() req: Request, @Res() res: Response): void {
    this.check(req);
    const rt = [this.schemas.user, this.schemas.group].find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!rt) throw ScimError.notFound(`no resource type "${name}"`);
    sendScim(res, 200, this.resourceType(rt));
  }

  private schema(schema: SchemaDefinition) {
    return {
      schemas: [SCHEMA_URN],
      id: schema.id,
      name: schema.name,
      description: schema.description,
      attributes: schema.attributes,
      meta: { resourceType: 'Schema', location: `${this.base}/Schemas/${schema.id}` },
    };
  }

  @Get('Schemas')
  @RequireScope('scim:read')
  allSchemas(@Req() req: Request, @Res() res: Response): void {
    this.check(req);
    sendScim(res, 200, this.list(this.schemas.all.map((s) => this.schema(s))));
  }

  @Get('Schemas/:id')
  @RequireScope('scim:read')
  schemaById(@Param('id') id: string, @Req() req: Request, @Res() res: Response): void {
    this.check(req);
    const schema = this.schemas.schemaById(id);
    if (!schema) throw ScimError.notFound(`no schema "${id}"`);
    sendScim(res, 200, this.schema(schema));
  }
}
