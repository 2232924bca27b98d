/**
 * One connector's SP settings, resolved at boot (URLs, loaded keys) plus the IdP settings in force
 * (config, merged with refreshed metadata), and the node-saml `SAML` object built per operation.
 *
 * A `SAML` object is cheap (~0.03 ms) and some options can only be given at construction (the
 * cacheProvider bound to an interaction, the request ID Herald chose, the decryption key that
 * opened this assertion, the certificate order), so each operation gets its own. node-saml's
 * defaults that are wrong for Herald are all set explicitly here.
 */
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import type { SamlConnectorConfig } from './saml.config.js';
import type { LoadedKeyPair } from './saml-credentials.js';
import type { IdpMetadataSource } from './idp-metadata.source.js';
import { algorithmPolicy, type AlgorithmPolicy } from './algorithm-policy.js';
import type { MessageLimits } from './saml-message-decoder.js';
import { nameIdFormatUri } from './xml-names.js';

export interface SpEndpoints {
  entityId: string;
  metadataUrl: string;
  acsUrl: string;
  sloUrl: string;
}

export interface IdpSettings {
  entityId: string;
  ssoUrl: string;
  ssoBinding: 'redirect' | 'post';
  sloUrl?: string;
  certificates: string[];
}

export class IdpUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdpUnavailableError';
  }
}

export interface SamlOperation {
  cacheProvider: CacheProvider;
  /** The ID node-saml puts on the request (Herald chooses it, so it knows it). */
  requestId?: string;
  decryptionKey?: string;
  /** IdP certificates in the order to try (KeyInfo hint first). */
  certificates?: string[];
  post?: boolean;
  forceAuthn?: boolean;
}

export class SamlServiceProvider {
  readonly algorithms: AlgorithmPolicy;
  readonly limits: MessageLimits;
  readonly clockSkewMs: number;
  readonly nameIdFormat: string | undefined;

  constructor(
    readonly id: string,
    readonly config: SamlConnectorConfig,
    readonly endpoints: SpEndpoints,
    readonly staticCertificates: string[],
    readonly signing: LoadedKeyPair | undefined,
    readonly decryption: Array<LoadedKeyPair & { publish: boolean }>,
    readonly metadata: IdpMetadataSource | undefined,
  ) {
    this.algorithms = algorithmPolicy(config.allowSha1);
    this.limits = { maxMessageBytes: config.maxMessageBytes, maxInflatedBytes: config.maxInflatedBytes, maxQueryChars: 16_000 };
    this.clockSkewMs = config.clockSkewSeconds * 1000;
    this.nameIdFormat = config.nameIdFormat ? nameIdFormatUri(config.nameIdFormat) : undefined;
  }

  /** The IdP as configured, completed by its metadata; throws when it cannot be used right now. */
  idp(): IdpSettings {
    const { idp } = this.config;
    const metadata = this.metadata?.get();
    if (this.metadata && !metadata) throw new IdpUnavailableError('the IdP metadata is not loaded (or expired)');
    const pick = (list: { binding: string; location: string }[] | undefined, binding: string) =>
      list?.find((e) => e.binding === binding)?.location;
    const ssoUrl = idp.ssoUrl ?? pick(metadata?.sso, idp.ssoBinding);
    if (!ssoUrl) throw new IdpUnavailableError(`the IdP metadata has no SingleSignOnService for the ${idp.ssoBinding} binding`);
    const certificates = [...new Set([...this.staticCertificates, ...(metadata?.certificates ?? [])])];
    if (!certificates.length) throw new IdpUnavailableError('no IdP signing certificate');
    return { entityId: idp.entityId, ssoUrl, ssoBinding: idp.ssoBinding, sloUrl: idp.sloUrl ?? pick(metadata?.slo, 'redirect'), certificates };
  }

  /** The signature(s) node-saml must require: `requireSignature` mapped to its two switches. */
  get wants(): { response: boolean; assertion: boolean } {
    const mode = this.config.requireSignature;
    return { response: mode === 'response' || mode === 'both', assertion: mode === 'assertion' || mode === 'both' };
  }

  saml(op: SamlOperation): SAML {
    const idp = this.idp();
    const c = this.config;
    return new SAML({
      issuer: this.endpoints.entityId,
      audience: this.endpoints.entityId, // never `false` (that disables the Audience check)
      callbackUrl: this.endpoints.acsUrl,
      entryPoint: idp.ssoUrl,
      logoutUrl: idp.sloUrl ?? idp.ssoUrl,
      idpCert: op.certificates ?? idp.certificates,
      idpIssuer: idp.entityId, // node-saml compares it on logout messages only; Herald checks logins itself
      ...(this.signing ? { privateKey: this.signing.key, publicCert: this.signing.certificate } : {}),
      signatureAlgorithm: 'sha256', // node-saml's default is sha1
      digestAlgorithm: 'sha256', // unset means sha1
      skipRequestCompression: op.post ?? false, // the POST binding must not deflate
      identifierFormat: this.nameIdFormat ?? null,
      disableRequestedAuthnContext: !c.requestedAuthnContext,
      authnContext: c.requestedAuthnContext?.classRefs ?? [],
      racComparison: c.requestedAuthnContext?.comparison ?? 'exact',
      forceAuthn: op.forceAuthn ?? c.forceAuthn,
      ...(op.requestId ? { generateUniqueId: () => op.requestId! } : {}),
      wantAuthnResponseSigned: this.wants.response,
      wantAssertionsSigned: this.wants.assertion,
      ...(op.decryptionKey ? { decryptionPvk: op.decryptionKey } : {}),
      acceptedClockSkewMs: this.clockSkewMs, // default 0; -1 would disable every time check
      maxAssertionAgeMs: (c.maxAssertionAgeSeconds ?? 0) * 1000,
      validateInResponseTo: c.allowUnsolicited ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: c.requestTtlSeconds * 1000, // default 8 h
      cacheProvider: op.cacheProvider,
    });
  }
}
