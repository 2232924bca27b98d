/**
 * RFC 7643 §4.3 / §8.7.1 enterprise User extension.
 * Generated once from the SCIM research (.proto/scim/schemas); every characteristic spelled out so that
 * /Schemas, validation, filters, PATCH and projection all read the same definitions.
 */
import type { SchemaDefinition } from '../scim-schema.js';

export const ENTERPRISE_USER_SCHEMA: SchemaDefinition = {
  id: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    {
      name: 'employeeNumber',
      type: 'string',
      multiValued: false,
      description: 'Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization.',
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none'
    },
    {
      name: 'costCenter',
      type: 'string',
      multiValued: false,
      description: 'Identifies the name of a cost center.',
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none'
    },
    {
      name: 'organization',
      type: 'string',
      multiValued: false,
      description: 'Identifies the name of an organization.',
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none'
    },
    {
      name: 'division',
      type: 'string',
      multiValued: false,
      description: 'Identifies the name of a division.',
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none'
    },
    {
      name: 'department',
      type: 'string',
      multiValued: false,
      description: 'Identifies the name of a department.',
      required: false,
      caseExact: false,
      mutability: 'readWrite',
      returned: 'default',
      uniqueness: 'none'
    },
    {
      name: 'manager',
      type: 'complex',
      multiValued: false,
      description: "The User's manager. A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.",
      required: false,
      mutability: 'readWrite',
      returned: 'default',
      subAttributes: [
        {
          name: 'value',
          type: 'string',
          multiValued: false,
          description: "The id of the SCIM resource representing the User's manager. REQUIRED.",
          required: false,
          caseExact: false,
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none'
        },
        {
          name: '$ref',
          type: 'reference',
          multiValued: false,
          description: "The URI of the SCIM resource representing the User's manager. REQUIRED.",
          required: false,
          caseExact: false,
          referenceTypes: [
            'User'
          ],
          mutability: 'readWrite',
          returned: 'default',
          uniqueness: 'none'
        },
        {
          name: 'displayName',
          type: 'string',
          multiValued: false,
          description: "The displayName of the User's manager. OPTIONAL and READ-ONLY.",
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
