import { z } from 'zod';

/** Placeholders a provider URL may contain; each value is URL-encoded. */
export const URL_PLACEHOLDER = /\{(sub|client_id|account\.[A-Za-z0-9_.:-]+)\}/g;

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name');

const authSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('none').describe('No authentication.') }).strict(),
    z
      .object({
        type: z.literal('header').describe('A static secret in a request header.'),
        name: headerName.default('authorization').describe('Header that carries the secret, e.g. authorization or x-api-key.'),
        value: z.string().min(1).describe('Header value, e.g. "Bearer ${SETTINGS_API_KEY}" (use ${ENV} interpolation; never commit it).'),
      })
      .strict(),
    z
      .object({
        type: z.literal('client_credentials').describe('An OAuth 2.0 access token from the client-credentials grant.'),
        tokenUrl: z
          .string()
          .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'expected an http(s) URL')
          .describe('Token endpoint of the authorization server that protects the API (may be this Herald: <issuer>/token).'),
        clientId: z.string().min(1).describe('Client id Herald authenticates as.'),
        clientSecret: z.string().min(1).describe('Client secret (use ${ENV} interpolation).'),
        method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic').describe('Client authentication at the token endpoint.'),
        scope: z.string().optional().describe('Scope to request.'),
        resource: z.string().optional().describe('RFC 8707 resource indicator to request.'),
      })
      .strict(),
  ])
  .default({ type: 'none' });

/** An external HTTP API asked for claim values when a token is issued. */
export const claimProviderConfigSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/i).describe('Id referenced by scope claims with from=provider.'),
    type: z.literal('http').default('http').describe('Provider type.'),
    url: z
      .string()
      .refine((url) => {
        const filled = url.replace(URL_PLACEHOLDER, 'x');
        if (/[{}]/.test(filled) || !URL.canParse(filled)) return false;
        return ['http:', 'https:'].includes(new URL(filled).protocol);
      }, 'expected an http(s) URL whose only placeholders are {sub}, {client_id} and {account.<attribute>}')
      .describe(
        'URL template of a GET request; {sub} (the Herald user id), {client_id} and {account.<attribute>} (e.g. {account.userId}) are replaced, URL-encoded. Tokens without a user, or users without the attribute, skip the provider.',
      ),
    auth: authSchema.describe('How Herald authenticates to the API: none, a static header secret, or an OAuth client-credentials token.'),
    timeoutMs: z.number().int().positive().max(30000).default(2000).describe('Timeout of one call (and of the token request), in milliseconds.'),
    cacheTtlSeconds: z.number().int().min(0).default(60).describe('How long an answer is reused without calling the API again (per URL); 0 disables the cache.'),
    maxResponseBytes: z.number().int().positive().default(65536).describe('Largest response body accepted.'),
    claims: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        'Response mapping: claim key → JSON Pointer ("/settings/desk") or dotted path ("settings.desk") into the JSON response. Omitted: the top-level members of the response object. Scope claims pick a key with `attribute` (default: the claim name).',
      ),
    onFailure: z
      .enum(['fail', 'omit', 'stale'])
      .default('omit')
      .describe(
        'When the API is down, slow or answers with an error: fail (no token; the client gets temporarily_unavailable), omit (the claims are left out), or stale (the last good answer within staleSeconds, else left out). Every failure is audited as claims.provider_failed. A 404 means "no values" and is not a failure.',
      ),
    staleSeconds: z.number().int().positive().default(3600).describe('For onFailure=stale: how old a last good answer may be.'),
  })
  .strict();
export type ClaimProviderConfig = z.infer<typeof claimProviderConfigSchema>;
