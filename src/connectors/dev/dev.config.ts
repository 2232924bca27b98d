import { z } from 'zod';
import { connectorBaseFields } from '../connector-base.config.js';

/** The development connector: a form where a developer types the upstream claims. */
export const devConnectorConfigSchema = z
  .object({
    type: z.literal('dev'),
    ...connectorBaseFields,
    samples: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({})
      .describe('Named sample identities (claims objects, each with a `sub`) offered on the form.'),
  })
  .strict();
