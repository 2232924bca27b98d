/**
 * RFC 7643 §3.1 common attributes (id, externalId, meta). Not served under /Schemas; used by the
 * validator, filters and projection.
 */
import type { AttributeDefinition } from '../scim-schema.js';

export const COMMON_ATTRIBUTES: AttributeDefinition[] = [
  {
    name: 'id',
    type: 'string',
    multiValued: false,
    description: 'A unique identifier for a SCIM resource as defined by the service provider. REQUIRED.',
    required: false,
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server'
  },
  {
    name: 'externalId',
    type: 'string',
    multiValued: false,
    description: 'A String that is an identifier for the resource as defined by the provisioning client.',
    required: false,
    caseExact: true,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none'
  },
  {
    name: 'meta',
    type: 'complex',
    multiValued: false,
    description: 'A complex attribute containing resource metadata.',
    required: false,
    mutability: 'readOnly',
    returned: 'default',
    subAttributes: [
      {
        name: 'resourceType',
        type: 'string',
        multiValued: false,
        description: 'The name of the resource type of the resource.',
        required: false,
        caseExact: true,
        mutability: 'readOnly',
        returned: 'default',
        uniqueness: 'none'
      },
      {
        name: 'created',
        type: 'dateTime',
        multiValued: false,
        description: 'The "DateTime" that the resource was added to the service provider.',
        required: false,
        mutability: 'readOnly',
        returned: 'default',
        uniqueness: 'none'
      },
      {
        name: 'lastModified',
        type: 'dateTime',
        multiValued: false,
        description: 'The most recent DateTime that the details of this resource were updated at the service provider.',
        required: false,
        mutability: 'readOnly',
        returned: 'default',
        uniqueness: 'none'
      },
      {
        name: 'location',
        type: 'reference',
        multiValued: false,
        description: 'The URI of the resource being returned.',
        required: false,
        caseExact: true,
        referenceTypes: [
          'uri'
        ],
        mutability: 'readOnly',
        returned: 'default',
        uniqueness: 'none'
      },
      {
        name: 'version',
        type: 'string',
        multiValued: false,
        description: 'The version of the resource being returned (same value as the ETag header).',
        required: false,
        caseExact: true,
        mutability: 'readOnly',
        returned: 'default',
        uniqueness: 'none'
      }
    ]
  }
];
