import { z } from 'zod';
import { connectorBaseFields } from '../connector-base.config.js';

/** Parameters Herald sets itself on every upstream authorization request; config cannot override them. */
export const RESERVED_AUTHORIZATION_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request',
  'request_uri',
] as const;

export const OIDC_PRIVATE_KEY_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;

const claimName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'expected a claim name (letters, digits, "_", ".", ":", "-")');

const issuerUrl = z
  .string()
  .refine((value) => URL.canParse(value), 'expected an absolute URL')
  .refine((value) => ['https:', 'http:'].includes(new URL(value).protocol), 'expected an http(s) URL')
  .refine((value) => !value.includes('/.well-known/'), 'expected the issuer identifier, not the URL of its discovery document')
  .refine((value) => !new URL(value).search && !new URL(value).hash, 'an issuer identifier has no query or fragment');

const claimMappingSchema = z
  .object({
    subject: claimName.default('sub').describe('Claim holding the stable upstream subject (e.g. "oid" for Entra ID). Default "sub".'),
    email: claimName.default('email').describe('Claim holding the email address. Default "email".'),
    emailVerified: claimName
      .default('email_verified')
      .describe('Claim saying whether the email is verified; only the JSON value true counts. Default "email_verified".'),
    name: claimName.default('name').describe('Claim holding the full name. Default "name".'),
    givenName: claimName.default('given_name').describe('Claim holding the given name. Default "given_name".'),
    familyName: claimName.default('family_name').describe('Claim holding the family name. Default "family_name".'),
  })
  .strict();

const timeoutsSchema = z
  .object({
    connectMs: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(3000)
      .describe('Milliseconds to establish a connection to the IdP (TCP and TLS handshake) before giving up.'),
    totalMs: z
      .number()
      .int()
      .min(100)
      .max(120_000)
      .default(10_000)
      .describe('Milliseconds for one upstream HTTP request (discovery, token, userinfo, JWKS) from start to the end of the response body.'),
  })
  .strict();

/** An OpenID Connect identity provider Herald signs users in with (Herald is the relying party). */
export const oidcConnectorConfigSchema = z
  .object({
    type: z.literal('oidc'),
    ...connectorBaseFields,
    issuer: issuerUrl.describe(
      'Issuer identifier of the IdP (e.g. https://login.microsoftonline.com/<tenant>/v2.0). Herald reads <issuer>/.well-known/openid-configuration and refuses a document whose `issuer` differs.',
    ),
    clientId: z.string().min(1).describe('Client id Herald is registered with at the IdP.'),
    clientSecret: z
      .string()
      .min(1)
      .optional()
      .describe('Client secret for client_secret_basic / client_secret_post (use ${ENV} interpolation; never commit it).'),
    authMethod: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
      .default('client_secret_basic')
      .describe('How Herald authenticates at the IdP token endpoint.'),
    privateKey: z
      .union([z.record(z.string(), z.unknown()), z.string().min(1)])
      .optional()
      .describe('For private_key_jwt: the private key as a JWK object or a PKCS#8 PEM string (use ${ENV}). Register its public half at the IdP.'),
    privateKeyFile: z
      .string()
      .optional()
      .describe('For private_key_jwt: path (relative to the config directory) of a PKCS#8 PEM or JWK JSON file with the private key.'),
    privateKeyId: z.string().optional().describe('For private_key_jwt: the `kid` to put in client assertions (default: the JWK\'s kid).'),
    privateKeyAlg: z
      .enum(OIDC_PRIVATE_KEY_ALGS)
      .optional()
      .describe('For private_key_jwt: signing algorithm of client assertions (default: the JWK\'s alg, else RS256 for RSA, ES256/ES384 for EC, EdDSA for Ed25519).'),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'expected a scope token'))
      .default(['openid', 'profile', 'email'])
      .refine((scopes) => scopes.includes('openid'), 'the scopes must include "openid"')
      .describe('Scopes requested from the IdP. Must include openid. Default: openid profile email.'),
    authorizationParams: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a parameter name'), z.string())
      .default({})
      .refine(
        (params) => !Object.keys(params).some((name) => (RESERVED_AUTHORIZATION_PARAMS as readonly string[]).includes(name)),
        `these parameters are set by Herald: ${RESERVED_AUTHORIZATION_PARAMS.join(', ')}`,
      )
      .describe('Extra authorization request parameters sent on every sign-in, e.g. { prompt: select_account, domain_hint: example.com }.'),
    forwardLoginHint: z
      .boolean()
      .default(true)
      .describe('Pass the client\'s login_hint on to the IdP (pre-fills the user name there).'),
    userinfo: z
      .boolean()
      .default(true)
      .describe('Also read the userinfo endpoint (when the IdP has one) and merge its claims with the ID token\'s.'),
    claims: claimMappingSchema
      .default(claimMappingSchema.parse({}))
      .describe('Which upstream claims hold the subject and the profile fields Herald stores on the account.'),
    assumeEmailVerified: z
      .boolean()
      .default(false)
      .describe(
        'Treat every email from this IdP as verified even without an email_verified claim. Only for IdPs that own their email domains (e.g. a single Entra ID tenant); it enables linking by verified email.',
      ),
    timeouts: timeoutsSchema.default(timeoutsSchema.parse({})).describe('Network timeouts for requests to the IdP.'),
    jwksCooldownSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(30)
      .describe('An ID token signed with a key id Herald has not seen refetches the IdP\'s JWKS once, at most once per this many seconds.'),
    jwksCacheSeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(600)
      .describe('How long the IdP\'s JWKS is cached before it is fetched again.'),
    allowInsecureHttp: z
      .boolean()
      .default(false)
      .describe('Allow a plain http:// issuer that is not on the loopback interface. Development mode only.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.authMethod === 'private_key_jwt') {
      if (!config.privateKey && !config.privateKeyFile)
        ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'expected privateKey or privateKeyFile for authMethod private_key_jwt' });
      if (config.privateKey && config.privateKeyFile)
        ctx.addIssue({ code: 'custom', path: ['privateKeyFile'], message: 'give either privateKey or privateKeyFile, not both' });
    } else if (!config.clientSecret) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `expected a clientSecret for authMethod ${config.authMethod}` });
    }
    const url = URL.canParse(config.issuer) ? new URL(config.issuer) : undefined;
    if (url?.protocol === 'http:' && !isLoopbackHost(url.hostname) && !config.allowInsecureHttp)
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'expected an https:// issuer (set allowInsecureHttp for a plain-http IdP in development)' });
  });

export type OidcConnectorConfig = z.infer<typeof oidcConnectorConfigSchema>;

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
