/**
 * Verifies XML signatures with xml-crypto against the configured IdP certificates only.
 *
 * node-saml verifies the signatures its settings require and silently ignores any other one, so
 * a forged Response signature next to a genuine assertion signature would pass. Herald's rule is
 * stricter: a signature that is present must verify. KeyInfo is never trusted; it only orders the
 * configured certificates so that the one that probably signed is tried first.
 */
import { SignedXml } from 'xml-crypto';
import { descendants } from './xml-dom.js';
import { reject } from './saml-rejection.js';
import type { FoundSignature } from './signature-inspector.js';

export interface VerifiedSignature {
  on: string;
  /** Index of the configured certificate that verified it. */
  certIndex: number;
  signatureAlgorithm: string;
  digestAlgorithm: string;
}

/** `xml` must be the exact text the signatures were found in (raw Response or decrypted assertion). */
export function verifySignatures(xml: string, signatures: FoundSignature[], certs: string[]): VerifiedSignature[] {
  const normalized = xml.replace(/\r\n?/g, '\n'); // node-saml normalizes line ends the same way before xml-crypto
  return signatures.map((signature) => {
    for (let i = 0; i < certs.length; i++) {
      const verifier = new SignedXml({ publicCert: certs[i], getCertFromKeyInfo: () => null });
      try {
        verifier.loadSignature(signature.node.toString());
        if (verifier.checkSignature(normalized)) {
          return { on: signature.parent.localName ?? '', certIndex: i, signatureAlgorithm: signature.signatureAlgorithm, digestAlgorithm: signature.digestAlgorithm };
        }
      } catch {
        // not this certificate, or a broken signature: try the next one
      }
    }
    return reject('signature_invalid', `the signature on <${signature.parent.localName}> does not verify with any configured IdP certificate`);
  });
}

const certBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

/**
 * Ordering hint only: when a signature's KeyInfo carries one of the *configured* certificates,
 * try that one first (each wrong certificate costs node-saml a full reference check). The list
 * never gains a certificate.
 */
export function orderCertsByKeyInfo(signatures: FoundSignature[], certs: string[]): { certs: string[]; hint: number | null } {
  const bodies = certs.map(certBody);
  for (const signature of signatures) {
    const x509 = descendants(signature.node).find((e) => e.localName === 'X509Certificate');
    const index = x509 ? bodies.indexOf((x509.textContent ?? '').replace(/\s+/g, '')) : -1;
    if (index >= 0) return { certs: [certs[index]!, ...certs.filter((_, j) => j !== index)], hint: index };
  }
  return { certs, hint: null };
}
