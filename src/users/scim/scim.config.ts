import { z } from 'zod';

/** Simple SCIM attribute types a config-declared extension attribute may have (RFC 7643 §2.3). */
export const EXTENSION_ATTRIBUTE_TYPES = ['string', 'boolean', 'integer', 'decimal', 'dateTime', 'reference'] as const;

/** Names the Herald extension reserves for itself (read-only data Herald maintains). */
export const RESERVED_EXTENSION_ATTRIBUTES = ['links'] as const;

const attributeName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'expected a SCIM attribute name (a letter, then letters, digits, "_" or "-")');

const typeShorthand = z
  .string()
  .regex(
    new RegExp(`^(${EXTENSION_ATTRIBUTE_TYPES.join('|')})(\\[\\])?$`),
    `expected one of ${EXTENSION_ATTRIBUTE_TYPES.join(', ')}, optionally followed by [] for a multi-valued attribute`,
  );

const attributeObject = z
  .object({
    type: typeShorthand.describe('SCIM type; "string[]" (or multiValued: true) for a list.'),
    multiValued: z.boolean().optional().describe('Whether the attribute holds a list (also expressed by a [] suffix on type).'),
    description: z.string().optional().describe('Shown in /Schemas.'),
    required: z.boolean().default(false).describe('Writes without a value are refused (400 invalidValue).'),
    caseExact: z.boolean().default(false).describe('Whether string comparisons (filters, uniqueness) are case-sensitive.'),
    mutability: z
      .enum(['readWrite', 'immutable', 'writeOnly'])
      .default('readWrite')
      .describe('RFC 7643 §7 mutability. immutable: may be set once, never changed.'),
    returned: z.enum(['default', 'always', 'request', 'never']).default('default').describe('RFC 7643 §7 returned.'),
    canonicalValues: z.array(z.string()).optional().describe('When set, writes must use one of these values (400 invalidValue otherwise).'),
  })
  .strict();

export const extensionAttributeSchema = z.union([
  typeShorthand.describe('Shorthand: the type, e.g. "integer" or "string[]".'),
  attributeObject,
]);
export type ExtensionAttributeConfig = z.infer<typeof extensionAttributeSchema>;

export const scimConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the SCIM 2.0 API under /scim/v2.'),
    extension: z
      .object({
        attributes: z
          .record(attributeName, extensionAttributeSchema)
          .default({})
          .refine((attrs) => !Object.keys(attrs).some((name) => (RESERVED_EXTENSION_ATTRIBUTES as readonly string[]).includes(name.toLowerCase())), {
            message: `${RESERVED_EXTENSION_ATTRIBUTES.join(', ')} is maintained by Herald and cannot be declared`,
          })
          .describe(
            'Attributes of the Herald extension (urn:ietf:params:scim:schemas:extension:herald:2.0:User), e.g. `userId: integer`, `locations: string[]`. Validated on every write; readable as claims with from=account.',
          ),
      })
      .strict()
      .default({ attributes: {} })
      .describe('The Herald User extension schema.'),
    maxResults: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(200)
      .describe('Largest page a list or search returns (`count` is capped to it); advertised as filter.maxResults.'),
    maxScan: z
      .number()
      .int()
      .min(1)
      .default(10000)
      .describe(
        'Filters and sorts that no index can narrow are evaluated over every resource; above this many resources they are refused with 400 tooMany.',
      ),
    maxFilterLength: z.number().int().min(64).default(4096).describe('Longest accepted filter expression, in characters.'),
    emailsVerified: z
      .boolean()
      .default(true)
      .describe(
        'Treat the primary email a SCIM client provisions as verified, so that accountLinking.byVerifiedEmail can bind a first sign-in to the provisioned account.',
      ),
  })
  .strict()
  .default({ enabled: true, extension: { attributes: {} }, maxResults: 200, maxScan: 10000, maxFilterLength: 4096, emailsVerified: true });
export type ScimConfig = z.infer<typeof scimConfigSchema>;
