import { z } from 'zod';
import { DcqlQuery } from 'dcql';
import { connectorBaseFields } from '../connector-base.config.js';

/** A claim path in DCQL form: object keys and array indexes (`null` = every element is not allowed here). */
const claimPath = z
  .array(z.union([z.string().min(1), z.number().int().nonnegative()]))
  .min(1)
  .describe('A DCQL claims path pointer, e.g. ["personal_administrative_number"] or ["address", "locality"].');

const pemOrFile = z
  .string()
  .min(1)
  .describe('PEM text (starts with "-----BEGIN"), or the path of a PEM file relative to the config directory.');

const trustedIssuerSchema = z
  .object({
    issuer: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\s|]+$/, 'expected an issuer identifier without spaces or "|"')
      .describe('The credential `iss` value, compared exactly. The upstream subject of a wallet sign-in starts with it.'),
    jwks: z
      .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) })
      .optional()
      .describe('The issuer\'s public keys as an inline JWK Set; the credential header `kid` selects one.'),
    jwksUri: z
      .string()
      .refine((value) => URL.canParse(value) && ['https:', 'http:'].includes(new URL(value).protocol), 'expected an https URL')
      .optional()
      .describe('URL of the issuer\'s JWK Set (https; fetched without redirects, cached 10 minutes). http only in development mode.'),
    x5cTrustAnchors: z
      .array(pemOrFile)
      .min(1)
      .optional()
      .describe(
        'X.509 trust anchors (PEM text or files): the credential header `x5c` chain must end at one of them, and the leaf certificate must name the issuer as a URI SAN (or its host as a dNSName SAN).',
      ),
  })
  .strict()
  .refine((entry) => [entry.jwks, entry.jwksUri, entry.x5cTrustAnchors].filter((v) => v !== undefined).length === 1, {
    message: 'expected exactly one of jwks, jwksUri or x5cTrustAnchors',
  });

const statusListSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Check the Token Status List a credential references (revoked and suspended credentials are refused).'),
    required: z.boolean().default(false).describe('Refuse credentials that carry no `status` claim at all.'),
    timeoutMs: z.number().int().min(100).max(30_000).default(3000).describe('Deadline for fetching one status list token, in milliseconds.'),
    maxBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024).describe('Largest status list token accepted, in bytes.'),
    maxInflatedBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(16 * 1024 * 1024)
      .describe('Largest decompressed status list accepted, in bytes (a decompression-bomb guard).'),
    minCacheSeconds: z.number().int().min(0).default(5).describe('Shortest time a fetched status list is cached, whatever its `ttl` says.'),
    maxCacheSeconds: z.number().int().min(0).max(86_400).default(300).describe('Longest time a fetched status list is cached (never beyond its `exp`).'),
    allowHttp: z.boolean().default(false).describe('Allow http:// status list URIs. Development and tests only.'),
    allowPrivateNetwork: z
      .boolean()
      .default(false)
      .describe('Allow status list URIs that resolve to loopback, private or link-local addresses (SSRF guard). Development and tests only.'),
  })
  .strict();

export const openid4vpConnectorConfigSchema = z
  .object({
    type: z.literal('openid4vp'),
    ...connectorBaseFields,
    dcql: z
      .record(z.string(), z.unknown())
      .describe(
        'The DCQL query sent to the wallet (OpenID4VP 1.0 §6): exactly one credential query with format "dc+sd-jwt", `meta.vct_values` naming the accepted credential types, and the claims to disclose. Herald evaluates it again on the verified presentation.',
      ),
    trustedIssuers: z
      .array(trustedIssuerSchema)
      .min(1)
      .describe('Credential issuers whose credentials are accepted, each with its keys (inline JWKS, JWKS URL, or X.509 trust anchors for x5c).'),
    keyBindingRequired: z
      .boolean()
      .default(true)
      .describe(
        'Require a key-binding JWT signed by the credential\'s holder key (`cnf.jwk`). Without it a copied credential can be replayed by anyone; turn off only for bearer credentials and with `subjectClaim` set.',
      ),
    clientIdPrefix: z
      .enum(['redirect_uri', 'x509_san_dns', 'x509_hash'])
      .describe(
        'How Herald identifies itself to wallets. "redirect_uri": unsigned requests, development mode only. "x509_san_dns": signed request objects; the certificate must carry Herald\'s public host as a dNSName SAN. "x509_hash": signed request objects; the client identifier is the certificate hash (changes when the certificate is renewed).',
      ),
    requestSigning: z
      .object({
        certificate: pemOrFile.describe('The request-object signing certificate chain, leaf first (PEM text or file). The root is not needed.'),
        privateKey: pemOrFile.describe('The leaf certificate\'s private key, PKCS#8 or SEC1 PEM (text via ${ENV}, or a file). EC P-256 recommended.'),
      })
      .strict()
      .optional()
      .describe('Request-object signing key and certificate; required for the x509_san_dns and x509_hash prefixes.'),
    requestUriMethod: z
      .enum(['get', 'post'])
      .default('get')
      .describe(
        'Signed requests: "post" asks wallets to POST to the request_uri with their metadata and a wallet_nonce, which Herald signs into a fresh request object. GET and POST are both always served.',
      ),
    unsignedRequest: z
      .enum(['by_value', 'by_reference'])
      .default('by_value')
      .describe('redirect_uri prefix only: put the request in the link ("by_value") or serve it unsigned at a request_uri ("by_reference"; many wallets refuse unsigned request objects).'),
    flow: z
      .enum(['choose', 'same_device', 'cross_device'])
      .default('choose')
      .describe(
        '"choose": a page with a QR code for a wallet on another device and a button for a wallet on this device. "same_device": redirect straight to the wallet. "cross_device": the QR code page only.',
      ),
    walletUrl: z
      .string()
      .refine((value) => URL.canParse(value), 'expected an absolute URL such as openid4vp:// or https://wallet.example/authorize')
      .default('openid4vp://')
      .describe('Base of the authorization request link (QR code and same-device button): the openid4vp:// scheme, or a wallet\'s universal link.'),
    transactionTtlSeconds: z
      .number()
      .int()
      .min(30)
      .max(3600)
      .default(300)
      .describe('How long a wallet has to answer one request (and the browser to collect the result), in seconds.'),
    keyBindingMaxAgeSeconds: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(300)
      .describe('How old a key-binding JWT\'s `iat` may be, in seconds (plus clock skew); `iat` in the future is refused.'),
    clockSkewSeconds: z.number().int().min(0).max(600).default(60).describe('Clock skew tolerated on `iat`, `nbf` and `exp`, in seconds.'),
    requireCredentialExpiry: z.boolean().default(true).describe('Refuse credentials without an `exp` claim.'),
    subjectClaim: claimPath
      .optional()
      .describe(
        'A stable, requested claim that identifies the holder at the issuer (e.g. ["personal_administrative_number"]). The upstream subject is "<issuer>|<claim path>:<value>". Default: the holder key thumbprint, "<issuer>|jkt:<RFC 7638 thumbprint>", which changes when the wallet re-issues the credential to a new key.',
      ),
    statusList: statusListSchema.default(statusListSchema.parse({})).describe('Token Status List checking (revocation and suspension).'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    let query: DcqlQuery.Output | undefined;
    try {
      query = DcqlQuery.parse(config.dcql as DcqlQuery.Input);
      DcqlQuery.validate(query);
    } catch (error) {
      issue(['dcql'], `invalid DCQL query: ${describeDcqlError(error)}`);
    }
    if (query) {
      const credentials = query.credentials;
      if (credentials.length !== 1) issue(['dcql', 'credentials'], 'expected exactly one credential query (one credential per sign-in)');
      if (query.credential_sets) issue(['dcql', 'credential_sets'], 'credential_sets are not supported (one credential per sign-in)');
      const first = credentials[0];
      if (first) {
        if (first.format !== 'dc+sd-jwt') issue(['dcql', 'credentials', 0, 'format'], 'expected "dc+sd-jwt" (SD-JWT VC)');
        if (first.multiple) issue(['dcql', 'credentials', 0, 'multiple'], 'multiple presentations of one credential are not supported');
        if (first.trusted_authorities) issue(['dcql', 'credentials', 0, 'trusted_authorities'], 'use trustedIssuers instead; Herald decides trust itself');
        const vcts = (first.meta as { vct_values?: string[] }).vct_values;
        if (!Array.isArray(vcts) || vcts.length === 0) issue(['dcql', 'credentials', 0, 'meta', 'vct_values'], 'expected the accepted credential types');
        if (first.require_cryptographic_holder_binding === false && config.keyBindingRequired) {
          issue(['dcql', 'credentials', 0, 'require_cryptographic_holder_binding'], 'contradicts keyBindingRequired: true (set keyBindingRequired: false to accept unbound credentials)');
        }
        if (config.subjectClaim) {
          const wanted = JSON.stringify(config.subjectClaim);
          const claims = (first.claims ?? []) as Array<{ path?: unknown[] }>;
          if (!claims.some((claim) => JSON.stringify(claim.path) === wanted)) {
            issue(['subjectClaim'], 'expected one of the claim paths the DCQL query requests');
          }
        }
      }
    }
    if (!config.keyBindingRequired && !config.subjectClaim) {
      issue(['subjectClaim'], 'required when keyBindingRequired is false (there is no holder key to identify the user by)');
    }
    if (config.clientIdPrefix !== 'redirect_uri' && !config.requestSigning) {
      issue(['requestSigning'], `required for the ${config.clientIdPrefix} prefix (requests must be signed)`);
    }
    if (config.clientIdPrefix === 'redirect_uri' && config.requestSigning) {
      issue(['requestSigning'], 'redirect_uri requests cannot be signed; remove requestSigning or use an x509 prefix');
    }
    const seen = new Set<string>();
    config.trustedIssuers.forEach((entry, i) => {
      if (seen.has(entry.issuer)) issue(['trustedIssuers', i, 'issuer'], `duplicate issuer "${entry.issuer}"`);
      seen.add(entry.issuer);
    });
    if (config.statusList.minCacheSeconds > config.statusList.maxCacheSeconds) {
      issue(['statusList', 'minCacheSeconds'], 'must not exceed maxCacheSeconds');
    }
  });

export type Openid4vpConnectorConfig = z.infer<typeof openid4vpConnectorConfigSchema>;

function describeDcqlError(error: unknown): string {
  const issues = (error as { issues?: Array<{ message: string; path?: Array<{ key: unknown }> }> }).issues;
  if (Array.isArray(issues) && issues.length) {
    return issues
      .slice(0, 3)
      .map((i) => `${i.path?.map((p) => String(p.key)).join('.') ?? ''} ${i.message}`.trim())
      .join('; ');
  }
  return String((error as Error).message ?? error);
}
