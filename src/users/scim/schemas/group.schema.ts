/**
 * RFC 7643 §4.2 / §8.7.1 core Group schema (displayName required by Herald).
 * Generated once from the SCIM research (.proto/scim/schemas); every characteristic spelled out so that
 * /Schemas, validation, filters, PATCH and projection all read the same definitions.
 */
import type { SchemaDefinition } from '../scim-schema.js';

export const GROUP_SCHEMA: SchemaDefinition = {
  id: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  name: 'Group',
  description: 'Group',
  attributes: [
    {
      name: 'displayName',
      type: 'string',
      multiValued: false,
      description: 'A human-readable name for the Group. REQUIRED. Unique (case-insensitive) in Herald, as Microsoft Entra expects.',
      required: true,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'server'
    },
    {
      name: 'members',
      type: 'complex',
      multiValued: true,
      description: 'A list of members of the Group.',
      required: false,
      mutability: 'readWrite',
      returned: 'default',
      subAttributes: [
        {
          name: 'value',
          type: 'string',
          multiValued: false,
          description: 'Identifier of the member of this Group.',
          required: false,
          caseExact: false,
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none'
        },
        {
          name: '$ref',
          type: 'reference',
          multiValued: false,
          description: 'The URI corresponding to a SCIM resource that is a member of this Group.',
          required: false,
          caseExact: false,
          referenceTypes: [
            'User',
            'Group'
          ],
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none'
        },
        {
          name: 'type',
          type: 'string',
          multiValued: false,
          description: "A label indicating the type of resource, e.g., 'User' or 'Group'.",
          required: false,
          caseExact: false,
          canonicalValues: [
            'User',
            'Group'
          ],
          mutability: 'immutable',
          returned: 'default',
          uniqueness: 'none'
        },
        {
          name: 'display',
          type: 'string',
          multiValued: false,
          description: 'A human-readable name for the member, primarily used for display purposes. READ-ONLY.',
          required: false,
          caseExact: false,
          mutability: 'readOnly',
          returned: 'default',
          uniqueness: 'none'
        }
      ]
    }
  ]
};
