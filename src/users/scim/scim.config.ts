import { z } from 'zod';

export const scimConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the SCIM 2.0 API under /scim/v2.'),
  })
  .passthrough()
  .default({ enabled: true });
