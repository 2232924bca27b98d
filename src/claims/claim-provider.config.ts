import { z } from 'zod';

/** An external HTTP API asked for claim values when a token is issued. */
export const claimProviderConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i).describe('Id referenced by scope claims with from=provider.'),
    type: z.literal('http').default('http').describe('Provider type.'),
    url: z.string().describe('URL template; {sub}, {client_id} and {account.<attribute>} are replaced (URL-encoded).'),
  })
  .passthrough();
