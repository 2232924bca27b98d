/**
 * Herald's configuration schema: the single source of truth for what `config/herald.yaml` may
 * contain. Every field carries a description; `herald config schema` turns this into a JSON
 * Schema for editors, and start-up validation reports the dotted key of anything that is wrong.
 */
import { z } from 'zod';
import { connectorConfigSchema } from '../connectors/connector-config.schema.js';
import { claimProviderConfigSchema } from '../claims/claim-provider.config.js';
import { transformsConfigSchema } from '../transforms/transforms.config.js';
import { scimConfigSchema } from '../users/scim/scim.config.js';
import { BUILTIN_API_IDS, BUILTIN_SCOPES } from './builtin-apis.js';

export const SIGNING_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** Scopes that OpenID Connect defines; Herald serves them itself and they cannot be redefined. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'] as const;

const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'expected an identifier: letters, digits, ".", "_" or "-"');

const absoluteUrl = z.string().refine((value) => URL.canParse(value), 'expected an absolute URL');

const httpUrl = absoluteUrl.refine((value) => {
  const protocol = new URL(value).protocol;
  return protocol === 'https:' || protocol === 'http:';
}, 'expected an http(s) URL');

const scopeName = z
  .string()
  .regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected a scope token (RFC 6749 §3.3: no spaces, quotes or backslashes)');

const claimName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'expected a claim name (letters, digits, "_", ".", ":", "-")');

const seconds = z.number().int().positive();

/** One claim that tokens with a scope carry, and where its value comes from. */
export const claimSpecSchema = z.union([
  claimName.describe(
    'Shorthand: the claim name. Its value is looked up in the default order: transform output, then the account attribute of the same name.',
  ),
  z
    .object({
      name: claimName.describe('Claim name as it appears in the token.'),
      from: z
        .enum(['transform', 'account', 'static', 'provider'])
        .optional()
        .describe(
          'Where the value comes from. Omitted: "static" when `value` is set, else transform output then account.',
        ),
      attribute: z
        .string()
        .optional()
        .describe(
          'For from=account: the account attribute path (e.g. "userId", "name.givenName", "enterprise.department"); for from=transform: the transform output key. Defaults to `name`.',
        ),
      value: z.unknown().optional().describe('For from=static: the JSON value every token gets.'),
      provider: identifier.optional().describe('For from=provider: the id of a claim provider (claimProviders).'),
      required: z
        .boolean()
        .default(false)
        .describe('When true, a token cannot be issued without a value for this claim.'),
    })
    .strict(),
]);
export type ClaimSpec = z.infer<typeof claimSpecSchema>;

export const scopeSchema = z
  .object({
    description: z.string().optional().describe('Shown to users on the consent page.'),
    claims: z
      .array(claimSpecSchema)
      .default([])
      .describe('Claims that access tokens (and ID tokens / userinfo, for user tokens) with this scope carry.'),
  })
  .strict();

export const apiSchema = z
  .object({
    id: identifier.describe('Short name used in client `apis` lists.'),
    name: z.string().optional().describe('Display name.'),
    identifier: absoluteUrl.describe(
      'Resource indicator (RFC 8707) of the API; it is the `aud` of every access token issued for it.',
    ),
    scopes: z.array(scopeName).min(1).describe('The scopes this API owns. A scope belongs to exactly one API.'),
    accessTokenTtl: seconds.default(900).describe('Access token lifetime in seconds.'),
    signingAlg: z
      .enum(SIGNING_ALGORITHMS)
      .optional()
      .describe('JWS algorithm for this API\'s access tokens. Defaults to keys.defaultAlgorithm.'),
  })
  .strict();
export type ApiConfig = z.infer<typeof apiSchema>;

export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;

const jwkSchema = z.record(z.string(), z.unknown());

export const clientSchema = z
  .object({
    id: z.string().min(1).describe('OAuth client_id.'),
    name: z.string().optional().describe('Display name on the login and consent pages.'),
    type: z
      .enum(['confidential', 'public'])
      .default('confidential')
      .describe('Public clients (SPAs, native apps) have no secret and must use PKCE.'),
    secret: z
      .string()
      .min(32, 'expected a client secret of at least 32 characters')
      .optional()
      .describe('Client secret for confidential clients (use ${ENV} interpolation; never commit it).'),
    authMethod: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
      .optional()
      .describe('Token endpoint authentication. Defaults: client_secret_basic (confidential), none (public).'),
    jwks: z
      .object({ keys: z.array(jwkSchema) })
      .optional()
      .describe('Public keys for private_key_jwt authentication.'),
    jwksUri: httpUrl.optional().describe('URL of the client\'s public keys, for private_key_jwt.'),
    redirectUris: z
      .array(absoluteUrl)
      .default([])
      .describe(
        'Exact redirect URIs (compared character by character; no wildcards). Clients with a custom-scheme URI are native apps: their loopback (127.0.0.1 / [::1]) URIs accept any port, as RFC 8252 §7.3 requires.',
      ),
    postLogoutRedirectUris: z.array(absoluteUrl).default([]).describe('Where RP-initiated logout may return to.'),
    grantTypes: z
      .array(z.enum(GRANT_TYPES))
      .default(['authorization_code', 'refresh_token'])
      .describe('Grant types the client may use.'),
    apis: z.array(identifier).default([]).describe('Ids of the APIs (`apis[].id`) this client may get tokens for.'),
    scopes: z
      .array(scopeName)
      .optional()
      .describe('Optional allow-list of scopes; by default every scope of the allowed APIs plus the OIDC scopes.'),
    connectors: z
      .array(identifier)
      .optional()
      .describe('Ids of the connectors this client\'s users may sign in with; default: all.'),
    firstParty: z.boolean().default(false).describe('First-party clients skip the consent page.'),
    tokenExchange: z
      .object({
        subjectApis: z
          .array(identifier)
          .min(1)
          .describe('Ids of the APIs whose access tokens this client may exchange (RFC 8693) for tokens to its own `apis`.'),
      })
      .strict()
      .optional()
      .describe('Token exchange (delegation): requires the token-exchange grant type.'),
    idTokenSigningAlg: z
      .enum(SIGNING_ALGORITHMS)
      .default('RS256')
      .describe('JWS algorithm for ID tokens issued to this client.'),
  })
  .strict();
export type ClientConfig = z.infer<typeof clientSchema>;

export const keysSchema = z
  .object({
    defaultAlgorithm: z
      .enum(SIGNING_ALGORITHMS)
      .default('ES256')
      .describe('Algorithm for access tokens of APIs that do not choose one.'),
    encryptionSecret: z
      .string()
      .min(32)
      .optional()
      .describe('When set, private keys are encrypted at rest (AES-256-GCM) with a key derived from this secret.'),
    refreshIntervalSeconds: seconds
      .default(30)
      .describe('How often a running Herald looks for keys rotated by another process (`herald keys rotate`).'),
  })
  .strict();

export const tokensSchema = z
  .object({
    idTokenTtl: seconds.default(3600).describe('ID token lifetime in seconds.'),
    userinfoAccessTokenTtl: seconds
      .default(600)
      .describe('Lifetime of access tokens for the userinfo endpoint (sign-ins that ask for OpenID Connect scopes only).'),
    refreshTokenTtl: seconds.default(14 * 24 * 3600).describe('Refresh token lifetime in seconds.'),
    authorizationCodeTtl: seconds.default(60).describe('Authorization code lifetime in seconds.'),
    sessionTtl: seconds.default(24 * 3600).describe('Herald browser session lifetime in seconds.'),
    interactionTtl: seconds.default(600).describe('How long a user has to finish signing in, in seconds.'),
  })
  .strict();

export const serverSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(3000).describe('HTTP port (env PORT overrides).'),
    host: z.string().default('0.0.0.0').describe('Interface to listen on (env HOST overrides).'),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Trust X-Forwarded-* headers (set when Herald runs behind a TLS-terminating proxy).'),
  })
  .strict();

export const storageSchema = z
  .object({
    url: z
      .string()
      .default('sqlite:data/herald.sqlite')
      .describe(
        'Database URL: sqlite:<path> (embedded, default) or postgres://… (production). Env DATABASE_URL overrides.',
      ),
  })
  .strict();

export const auditSchema = z
  .object({
    log: z.boolean().default(true).describe('Write each audit event as a JSON line to stdout.'),
    database: z.boolean().default(true).describe('Store audit events in the audit_events table.'),
  })
  .strict();

export const uiSchema = z
  .object({
    title: z.string().default('Herald').describe('Product name shown on the login page.'),
    logoFile: z.string().optional().describe('Path (relative to the config directory) of a logo image (PNG or SVG).'),
    primaryColor: z
      .string()
      .regex(/^#[0-9a-fA-F]{3,8}$/, 'expected a CSS hex colour like #0b5fff')
      .default('#0b5fff')
      .describe('Accent colour of the login page.'),
    cssFile: z.string().optional().describe('Path (relative to the config directory) of extra CSS for the login page.'),
  })
  .strict();

export const accountLinkingSchema = z
  .object({
    byVerifiedEmail: z
      .array(identifier)
      .default([])
      .describe(
        'Connector ids trusted for their verified emails: a sign-in through one of them joins an existing account with the same email if that email was verified by provisioning (SCIM) or by one of these connectors; their verified emails also become the userName of accounts created at sign-in. Empty: never link automatically.',
      ),
    byExternalId: z
      .array(identifier)
      .default([])
      .describe('Connector ids whose upstream subject may bind to a provisioned account whose externalId equals it.'),
  })
  .strict();

export const heraldConfigSchema = z
  .object({
    issuer: httpUrl.describe('Public base URL of Herald; the `iss` of every token. No trailing slash.'),
    mode: z
      .enum(['development', 'production'])
      .default('production')
      .describe('development enables the dev connector, the demo page and hot reload. Env HERALD_MODE overrides.'),
    server: serverSchema.default(serverSchema.parse({})).describe('HTTP listener.'),
    storage: storageSchema.default(storageSchema.parse({})).describe('Database.'),
    keys: keysSchema.default(keysSchema.parse({})).describe('Signing keys.'),
    tokens: tokensSchema.default(tokensSchema.parse({})).describe('Token and session lifetimes.'),
    apis: z.array(apiSchema).default([]).describe('APIs (resource servers) Herald issues access tokens for.'),
    scopes: z
      .record(scopeName, scopeSchema)
      .default({})
      .describe('API scopes and the claims tokens with each scope carry. OIDC scopes are built in.'),
    clients: z.array(clientSchema).default([]).describe('OAuth clients.'),
    connectors: z.array(connectorConfigSchema).default([]).describe('Upstream identity systems users sign in with.'),
    accountLinking: accountLinkingSchema
      .default(accountLinkingSchema.parse({}))
      .describe('Rules for attaching a sign-in to an existing account.'),
    transforms: transformsConfigSchema.describe('Claim transforms (TypeScript files in transforms/).'),
    claimProviders: z
      .array(claimProviderConfigSchema)
      .default([])
      .describe('External HTTP APIs asked for claim values at token issuance.'),
    scim: scimConfigSchema.describe('SCIM 2.0 user store.'),
    audit: auditSchema.default(auditSchema.parse({})).describe('Audit trail.'),
    ui: uiSchema.default(uiSchema.parse({})).describe('Login page look.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    // zod runs refinements even when fields already failed; cross-references are only
    // meaningful on a structurally valid document, and must never crash on a broken one.
    try {
      checkCrossReferences(config, ctx);
    } catch {
      /* the structural issues are reported already */
    }
  });

export type HeraldConfigInput = z.input<typeof heraldConfigSchema>;
export type HeraldConfig = z.infer<typeof heraldConfigSchema>;

/** References between sections: ids that must exist, scopes owned once, secrets where needed. */
function checkCrossReferences(config: z.infer<z.ZodObject<any>>, ctx: z.RefinementCtx): void {
  const cfg = config as unknown as HeraldConfig;
  const apiIds = new Set<string>(BUILTIN_API_IDS);
  const scopeOwner = new Map<string, string>(Object.entries(BUILTIN_SCOPES));
  const identifiers = new Set<string>();
  cfg.apis.forEach((api, i) => {
    if ((BUILTIN_API_IDS as readonly string[]).includes(api.id))
      ctx.addIssue({ code: 'custom', path: ['apis', i, 'id'], message: `"${api.id}" is the id of an API Herald serves itself` });
    else if (apiIds.has(api.id)) ctx.addIssue({ code: 'custom', path: ['apis', i, 'id'], message: `duplicate API id "${api.id}"` });
    apiIds.add(api.id);
    if (identifiers.has(api.identifier))
      ctx.addIssue({ code: 'custom', path: ['apis', i, 'identifier'], message: `duplicate API identifier "${api.identifier}"` });
    identifiers.add(api.identifier);
    api.scopes.forEach((scope, j) => {
      if ((OIDC_SCOPES as readonly string[]).includes(scope))
        ctx.addIssue({ code: 'custom', path: ['apis', i, 'scopes', j], message: `"${scope}" is an OpenID Connect scope and cannot belong to an API` });
      const owner = scopeOwner.get(scope);
      if (owner && owner !== api.id)
        ctx.addIssue({ code: 'custom', path: ['apis', i, 'scopes', j], message: `scope "${scope}" already belongs to API "${owner}"` });
      scopeOwner.set(scope, api.id);
    });
  });
  for (const scope of Object.keys(cfg.scopes)) {
    if ((OIDC_SCOPES as readonly string[]).includes(scope))
      ctx.addIssue({ code: 'custom', path: ['scopes', scope], message: `"${scope}" is an OpenID Connect scope; its claims are defined by the spec` });
    else if (!scopeOwner.has(scope))
      ctx.addIssue({ code: 'custom', path: ['scopes', scope], message: `scope "${scope}" is not owned by any API (add it to an apis[].scopes list)` });
  }
  const providerIds = new Set(cfg.claimProviders.map((p) => p.id));
  for (const [scope, def] of Object.entries(cfg.scopes)) {
    def.claims.forEach((spec, k) => {
      if (typeof spec === 'string') return;
      if (spec.from === 'provider' && (!spec.provider || !providerIds.has(spec.provider)))
        ctx.addIssue({ code: 'custom', path: ['scopes', scope, 'claims', k, 'provider'], message: `expected the id of a configured claim provider` });
      if (spec.from === 'static' && spec.value === undefined)
        ctx.addIssue({ code: 'custom', path: ['scopes', scope, 'claims', k, 'value'], message: 'expected a value for a static claim' });
    });
  }
  const connectorIds = new Set<string>();
  cfg.connectors.forEach((connector, i) => {
    if (connectorIds.has(connector.id))
      ctx.addIssue({ code: 'custom', path: ['connectors', i, 'id'], message: `duplicate connector id "${connector.id}"` });
    connectorIds.add(connector.id);
    if (connector.type === 'dev' && cfg.mode !== 'development')
      ctx.addIssue({ code: 'custom', path: ['connectors', i, 'type'], message: 'the dev connector is only allowed when mode is "development"' });
  });
  const clientIds = new Set<string>();
  cfg.clients.forEach((client, i) => {
    if (clientIds.has(client.id)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'id'], message: `duplicate client id "${client.id}"` });
    clientIds.add(client.id);
    client.apis.forEach((api, j) => {
      if (!apiIds.has(api)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'apis', j], message: `unknown API id "${api}"` });
    });
    client.connectors?.forEach((id, j) => {
      if (!connectorIds.has(id)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'connectors', j], message: `unknown connector id "${id}"` });
    });
    const method = client.authMethod ?? (client.type === 'public' ? 'none' : 'client_secret_basic');
    if (client.type === 'public' && method !== 'none')
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'authMethod'], message: 'public clients authenticate with "none"' });
    if (client.type === 'confidential' && method === 'none')
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'authMethod'], message: 'confidential clients must authenticate' });
    if (method.startsWith('client_secret') && !client.secret)
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'secret'], message: `expected a secret for authMethod ${method}` });
    if (method === 'private_key_jwt' && !client.jwks && !client.jwksUri)
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'jwks'], message: 'expected jwks or jwksUri for private_key_jwt' });
    if (client.type === 'public' && client.grantTypes.includes('client_credentials'))
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'grantTypes'], message: 'public clients cannot use client_credentials' });
    if (client.grantTypes.includes('authorization_code') && client.redirectUris.length === 0)
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'redirectUris'], message: 'expected at least one redirect URI for authorization_code' });
    client.redirectUris.forEach((uri, j) => {
      if (URL.parse(uri)?.hash) ctx.addIssue({ code: 'custom', path: ['clients', i, 'redirectUris', j], message: 'redirect URIs must not contain a fragment' });
    });
    const exchanges = client.grantTypes.includes('urn:ietf:params:oauth:grant-type:token-exchange');
    if (exchanges && !client.tokenExchange)
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'tokenExchange'], message: 'expected tokenExchange.subjectApis for the token-exchange grant type' });
    if (client.tokenExchange && !exchanges)
      ctx.addIssue({ code: 'custom', path: ['clients', i, 'grantTypes'], message: 'tokenExchange needs the urn:ietf:params:oauth:grant-type:token-exchange grant type' });
    client.tokenExchange?.subjectApis.forEach((api, j) => {
      if (!apiIds.has(api)) ctx.addIssue({ code: 'custom', path: ['clients', i, 'tokenExchange', 'subjectApis', j], message: `unknown API id "${api}"` });
    });
    client.scopes?.forEach((scope, j) => {
      if (!scopeOwner.has(scope) && !(OIDC_SCOPES as readonly string[]).includes(scope))
        ctx.addIssue({ code: 'custom', path: ['clients', i, 'scopes', j], message: `unknown scope "${scope}"` });
    });
  });
}
