/**
 * Reads an IdP's SAML metadata (node-saml has no parser): its signing certificates, SSO and SLO
 * endpoints and NameID formats. When a metadata signer is configured, the signature is verified
 * with xml-crypto against those certificates only, and everything is read from the XML the
 * signature covers (`getSignedReferences()`), never from the document as fetched.
 */
import type { Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { attr, child, children } from './xml-dom.js';
import { BINDING, NS } from './xml-names.js';
import { parseStrict } from './xml-strict-parser.js';
import { inspectSignatures } from './signature-inspector.js';
import { algorithmPolicy } from './algorithm-policy.js';
import { SamlRejection } from './saml-rejection.js';
import { certificatePem } from './saml-credentials.js';

export class IdpMetadataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdpMetadataError';
  }
}

export interface IdpEndpoint {
  binding: 'redirect' | 'post';
  location: string;
}

export interface IdpMetadata {
  entityId: string;
  signed: boolean;
  certificates: string[];
  sso: IdpEndpoint[];
  slo: IdpEndpoint[];
  nameIdFormats: string[];
  wantAuthnRequestsSigned: boolean;
  /** Earliest validUntil on the path to the IdP descriptor (epoch ms), if any. */
  validUntil?: number;
}

export interface ParseMetadataOptions {
  entityId: string;
  signingCertificates: string[];
  requireSignature: boolean;
  allowSha1?: boolean;
  now?: number;
}

const METADATA_LIMITS = { maxElements: 500_000, maxDepth: 40 };
const BINDINGS: Record<string, 'redirect' | 'post'> = { [BINDING.redirect]: 'redirect', [BINDING.post]: 'post' };

export function parseIdpMetadata(xml: string, options: ParseMetadataOptions): IdpMetadata {
  const now = options.now ?? Date.now();
  let root: Element;
  try {
    root = parseStrict(xml, { allowComments: true, limits: METADATA_LIMITS }).documentElement!;
  } catch (error) {
    throw new IdpMetadataError(`metadata is not acceptable XML: ${(error as Error).message}`, { cause: error });
  }
  if (root.namespaceURI !== NS.md || (root.localName !== 'EntityDescriptor' && root.localName !== 'EntitiesDescriptor')) {
    throw new IdpMetadataError('not a SAML metadata document');
  }

  let signed = false;
  if (options.requireSignature) {
    try {
      inspectSignatures(root, [root], algorithmPolicy(options.allowSha1 ?? false));
    } catch (error) {
      throw new IdpMetadataError(`metadata signature refused: ${error instanceof SamlRejection ? error.message : String(error)}`, { cause: error });
    }
    const signature = child(root, NS.ds, 'Signature');
    if (!signature) throw new IdpMetadataError('metadata is not signed');
    let signedXml: string | undefined;
    for (const certificate of options.signingCertificates) {
      const verifier = new SignedXml({ publicCert: certificate, getCertFromKeyInfo: () => null });
      try {
        verifier.loadSignature(signature.toString());
        if (verifier.checkSignature(xml) && verifier.getSignedReferences().length === 1) {
          signedXml = verifier.getSignedReferences()[0];
          break;
        }
      } catch {
        // next certificate
      }
    }
    if (!signedXml) throw new IdpMetadataError('metadata signature does not verify with a configured metadata signing certificate');
    root = parseStrict(signedXml, { allowComments: true, limits: METADATA_LIMITS }).documentElement!;
    signed = true;
  }

  let validUntil: number | undefined;
  const checkValid = (el: Element) => {
    const value = attr(el, 'validUntil');
    if (!value) return;
    const at = Date.parse(value);
    if (!(at > now)) throw new IdpMetadataError(`metadata expired (validUntil ${value})`);
    validUntil = Math.min(validUntil ?? Infinity, at);
  };
  const find = (el: Element): Element | null => {
    if (el.localName === 'EntityDescriptor') return attr(el, 'entityID') === options.entityId ? el : null;
    for (const c of children(el, NS.md)) {
      if (c.localName !== 'EntityDescriptor' && c.localName !== 'EntitiesDescriptor') continue;
      const hit = find(c);
      if (hit) {
        checkValid(c);
        return hit;
      }
    }
    return null;
  };
  checkValid(root);
  const entity = find(root);
  if (!entity) throw new IdpMetadataError(`entity ${options.entityId} is not in the metadata`);
  const descriptors = children(entity, NS.md, 'IDPSSODescriptor').filter((d) => (attr(d, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.samlp));
  if (descriptors.length !== 1) throw new IdpMetadataError('expected exactly one SAML 2.0 IDPSSODescriptor');
  const descriptor = descriptors[0]!;
  checkValid(descriptor);

  const certificates = children(descriptor, NS.md, 'KeyDescriptor')
    .filter((k) => (attr(k, 'use') ?? 'signing') === 'signing')
    .flatMap((k) => children(child(child(k, NS.ds, 'KeyInfo'), NS.ds, 'X509Data'), NS.ds, 'X509Certificate'))
    .flatMap((c, i) => {
      try {
        return [certificatePem(c.textContent ?? '', `metadata signing certificate ${i + 1}`)];
      } catch {
        return []; // not RSA or not parseable: unusable for verification, so not trusted either
      }
    });
  if (!certificates.length) throw new IdpMetadataError('the IdP descriptor lists no usable (RSA) signing certificate');
  const endpoints = (name: string): IdpEndpoint[] =>
    children(descriptor, NS.md, name)
      .filter((e) => BINDINGS[attr(e, 'Binding') ?? ''] && attr(e, 'Location'))
      .map((e) => ({ binding: BINDINGS[attr(e, 'Binding')!]!, location: attr(e, 'Location')! }));
  return {
    entityId: options.entityId,
    signed,
    certificates: [...new Set(certificates)],
    sso: endpoints('SingleSignOnService'),
    slo: endpoints('SingleLogoutService'),
    nameIdFormats: children(descriptor, NS.md, 'NameIDFormat').map((n) => (n.textContent ?? '').trim()),
    wantAuthnRequestsSigned: attr(descriptor, 'WantAuthnRequestsSigned') === 'true',
    validUntil,
  };
}
