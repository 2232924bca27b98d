/**
 * Config of a SAML 2.0 connector: Herald is the service provider (SP), a partner's IdP (ADFS,
 * Entra ID, Okta, Shibboleth…) signs users in. Every check is on and cannot be switched off;
 * the few relaxations (SHA-1, IdP-initiated responses, XML comments) are explicit opt-ins.
 */
import { z } from 'zod';
import { connectorBaseFields } from '../connector-base.config.js';
import { NAMEID_FORMATS } from './xml-names.js';

const httpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'expected an http(s) URL');

const pemOrFile = z
  .string()
  .min(1)
  .describe('PEM text (use ${ENV} interpolation for secrets) or the path of a PEM file, relative to the config directory.');

const keyPair = z
  .object({
    key: pemOrFile.describe('RSA private key: PEM text (use ${ENV} interpolation) or a PEM file path relative to the config directory.'),
    certificate: pemOrFile.describe('X.509 certificate of that key: PEM text or a PEM file path relative to the config directory.'),
  })
  .strict();

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export const samlIdpMetadataSchema = z
  .object({
    url: httpUrl.optional().describe('URL of the IdP metadata document (EntityDescriptor, or an EntitiesDescriptor aggregate holding the IdP).'),
    file: z.string().min(1).optional().describe('Path of the IdP metadata file, relative to the config directory.'),
    signingCertificates: z
      .array(pemOrFile)
      .default([])
      .describe('Certificates of whoever signs the metadata (the IdP or a federation operator). When given, an unsigned or wrongly signed document is refused and only the signed content is read.'),
    requireSignature: z
      .boolean()
      .optional()
      .describe('Refuse metadata without a valid signature. Default: true when signingCertificates are given. Unsigned metadata is accepted only from a file, an https URL or a loopback http URL.'),
    refreshIntervalSeconds: z
      .number()
      .int()
      .min(60)
      .default(86_400)
      .describe('How often the metadata is fetched or re-read. A failed refresh keeps the last good metadata (until its validUntil).'),
    timeoutMs: z.number().int().positive().max(60_000).default(5_000).describe('Timeout of one metadata download, in milliseconds.'),
    maxBytes: z.number().int().positive().max(50_000_000).default(5_000_000).describe('Largest metadata document accepted, in bytes.'),
  })
  .strict();

export const samlConnectorConfigSchema = z
  .object({
    type: z.literal('saml'),
    ...connectorBaseFields,
    idp: z
      .object({
        entityId: z.string().min(1).describe('Entity ID of the IdP. The assertion Issuer must equal it, and it names the IdP in metadata.'),
        ssoUrl: httpUrl.optional().describe('SingleSignOnService URL that receives the AuthnRequest. Default: from the IdP metadata (for ssoBinding).'),
        ssoBinding: z.enum(['redirect', 'post']).default('redirect').describe('How the AuthnRequest travels: HTTP-Redirect (query string) or HTTP-POST (auto-submitted form).'),
        sloUrl: httpUrl.optional().describe('SingleLogoutService URL (HTTP-Redirect) for SP-initiated logout. Default: from the IdP metadata; without one, logout ends only the Herald session.'),
        certificates: z
          .array(pemOrFile)
          .default([])
          .describe('IdP signing certificates. Several are accepted at once, for rotation: add the new one, wait for the IdP to switch, remove the old one. Certificates from IdP metadata are added to these.'),
        metadata: samlIdpMetadataSchema.optional().describe('IdP metadata to read the signing certificates and endpoints from, refreshed on a schedule.'),
      })
      .strict()
      .describe('The partner identity provider.'),
    sp: z
      .object({
        entityId: z.string().min(1).optional().describe('Herald\'s SP entity ID for this connector. Default: <issuer>/connectors/<id>/metadata (the metadata URL).'),
        signing: keyPair.optional().describe('Key that signs AuthnRequests and LogoutRequests (published in the SP metadata). Without it requests are unsigned.'),
        decryption: z
          .array(
            keyPair.extend({
              publish: z.boolean().default(true).describe('List the certificate in the SP metadata. Set false for the retiring key during a roll-over.'),
            }),
          )
          .max(2)
          .default([])
          .describe('Keys that decrypt encrypted assertions: one, or two during a roll-over (the IdP may use either until it has read the new metadata).'),
        metadataValidDays: z.number().int().min(1).max(365).default(7).describe('validUntil of the published SP metadata, in days from the time it is served.'),
      })
      .strict()
      .default({ decryption: [], metadataValidDays: 7 })
      .describe('Herald as the service provider.'),
    requireSignature: z
      .enum(['response', 'assertion', 'either', 'both'])
      .default('assertion')
      .describe('Which signature must be present and valid: the Response, the Assertion, either of them, or both. There is no "neither". Any signature that is present must verify as well.'),
    nameIdFormat: z
      .string()
      .optional()
      .describe(`NameID format asked for in the AuthnRequest and listed in the SP metadata: ${Object.keys(NAMEID_FORMATS).join(', ')} or a full URI. Default: none (the IdP chooses).`),
    requestedAuthnContext: z
      .object({
        classRefs: z.array(z.string().min(1)).min(1).describe('AuthnContextClassRef values to request, e.g. urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport.'),
        comparison: z.enum(['exact', 'minimum', 'maximum', 'better']).default('exact').describe('How the IdP compares them.'),
      })
      .strict()
      .optional()
      .describe('RequestedAuthnContext of the AuthnRequest. Default: none (many IdPs refuse an exact password context when they use MFA).'),
    forceAuthn: z.boolean().default(false).describe('Ask the IdP to authenticate the user again (ForceAuthn) on every sign-in. prompt=login from the client sets it too.'),
    attributes: z
      .object({
        email: z.array(z.string()).optional().describe('Attribute names or FriendlyNames that carry the email address, first match wins.'),
        givenName: z.array(z.string()).optional().describe('Attribute names or FriendlyNames of the given name.'),
        familyName: z.array(z.string()).optional().describe('Attribute names or FriendlyNames of the family name.'),
        name: z.array(z.string()).optional().describe('Attribute names or FriendlyNames of the display name.'),
      })
      .strict()
      .default({})
      .describe('Where the profile fields of the upstream identity come from (common eduPerson/X.500 OIDs, ADFS and Entra claim URIs by default). All attributes reach transforms regardless.'),
    trustEmail: z
      .boolean()
      .default(false)
      .describe('Treat the email from this IdP as verified (needed for accountLinking.byVerifiedEmail). Only for IdPs that own the email domains they assert.'),
    subjectAttribute: z
      .string()
      .optional()
      .describe('Take the upstream subject from this persistent attribute (Name or FriendlyName; exactly one value) instead of the NameID. Default: "<IdP entity ID>!<NameID>".'),
    amr: z
      .record(z.string(), z.array(z.string()))
      .default({})
      .describe('AuthnContextClassRef → amr values (RFC 8176), added to the built-in mapping (Password/PasswordProtectedTransport → pwd…).'),
    clockSkewSeconds: z.number().int().min(0).max(600).default(120).describe('Tolerance for NotBefore/NotOnOrAfter between Herald\'s and the IdP\'s clocks, in seconds.'),
    maxAssertionAgeSeconds: z.number().int().positive().optional().describe('Refuse assertions issued longer ago than this (from IssueInstant), in seconds, even if the IdP gave a longer NotOnOrAfter.'),
    requestTtlSeconds: z.number().int().min(30).max(3600).default(600).describe('How long an AuthnRequest may be answered, in seconds.'),
    allowUnsolicited: z
      .boolean()
      .default(false)
      .describe('Accept IdP-initiated (unsolicited) responses. They are validated fully, but never sign a browser in (nothing binds them to a browser): Herald sends the browser to unsolicitedLandingUrl, which starts a normal sign-in.'),
    unsolicitedLandingUrl: httpUrl.optional().describe('Where a valid IdP-initiated response sends the browser, typically the application\'s login-initiation URL. Required with allowUnsolicited.'),
    allowSha1: z.boolean().default(false).describe('Accept RSA-SHA1 signatures and SHA-1 digests (legacy IdPs only).'),
    allowXmlComments: z
      .boolean()
      .default(false)
      .describe('Accept XML comments in responses. Values are always read whole from the signed canonical XML, but comments in SAML messages are a known injection vector and normally absent.'),
    maxMessageBytes: z
      .number()
      .int()
      .min(10_000)
      .max(1_400_000)
      .default(300_000)
      .describe('Largest decoded SAML message (XML) accepted at the ACS, in bytes.'),
    maxInflatedBytes: z
      .number()
      .int()
      .min(10_000)
      .max(1_000_000)
      .default(100_000)
      .describe('Largest inflated HTTP-Redirect message (LogoutResponse), in bytes; inflation stops there.'),
    requireSignedLogoutResponse: z.boolean().default(true).describe('Refuse LogoutResponses without a valid query signature.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const { idp } = config;
    if (!idp.certificates.length && !idp.metadata)
      ctx.addIssue({ code: 'custom', path: ['idp', 'certificates'], message: 'expected IdP signing certificates or idp.metadata' });
    if (!idp.ssoUrl && !idp.metadata) ctx.addIssue({ code: 'custom', path: ['idp', 'ssoUrl'], message: 'expected the IdP SSO URL or idp.metadata' });
    const metadata = idp.metadata;
    if (metadata) {
      if (!metadata.url === !metadata.file)
        ctx.addIssue({ code: 'custom', path: ['idp', 'metadata'], message: 'expected exactly one of url and file' });
      const requireSignature = metadata.requireSignature ?? metadata.signingCertificates.length > 0;
      if (requireSignature && !metadata.signingCertificates.length)
        ctx.addIssue({ code: 'custom', path: ['idp', 'metadata', 'signingCertificates'], message: 'expected the metadata signing certificates when requireSignature is true' });
      if (!requireSignature && metadata.url) {
        const url = new URL(metadata.url);
        if (url.protocol !== 'https:' && !LOOPBACK.has(url.hostname))
          ctx.addIssue({ code: 'custom', path: ['idp', 'metadata', 'url'], message: 'unsigned metadata must come over https (or set signingCertificates)' });
      }
    }
    if (config.allowUnsolicited && !config.unsolicitedLandingUrl)
      ctx.addIssue({ code: 'custom', path: ['unsolicitedLandingUrl'], message: 'expected a landing URL when allowUnsolicited is true' });
    if (!config.subjectAttribute && config.nameIdFormat && (NAMEID_FORMATS[config.nameIdFormat] ?? config.nameIdFormat) === NAMEID_FORMATS.transient)
      ctx.addIssue({ code: 'custom', path: ['subjectAttribute'], message: 'a transient NameID changes at every sign-in: set subjectAttribute to a persistent attribute' });
    if (config.sp.decryption.length && !config.sp.decryption.some((k) => k.publish))
      ctx.addIssue({ code: 'custom', path: ['sp', 'decryption'], message: 'at least one decryption key must be published' });
  });

export type SamlConnectorConfig = z.infer<typeof samlConnectorConfigSchema>;
