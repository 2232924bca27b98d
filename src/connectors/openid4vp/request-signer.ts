/**
 * Herald's request-object signing identity for the `x509_san_dns:` and `x509_hash:` client
 * identifier prefixes: a private key and its certificate chain (leaf first), the `x5c` header,
 * and the client identifier the certificate yields. Checked at boot: the key matches the leaf,
 * and for `x509_san_dns:` the leaf names Herald's public host as a dNSName SAN (the wallet
 * requires the response_uri host to equal it).
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { parsePemCertificates } from './issuer-trust.js';
import type { JwsAlgorithm } from './jws.js';

export type SignedPrefix = 'x509_san_dns' | 'x509_hash';

export class RequestSigner {
  private constructor(
    readonly alg: JwsAlgorithm,
    private readonly key: KeyObject,
    /** Standard base64 DER, leaf first (the JOSE `x5c` header). */
    readonly x5c: string[],
    /** The full client identifier, prefix included. */
    readonly clientId: string,
  ) {}

  /** Throws a message naming the config key when the key, certificate or host do not fit. */
  static create(prefix: SignedPrefix, certificatePem: string, privateKeyPem: string, publicHost: string): RequestSigner {
    const chain = parsePemCertificates(certificatePem);
    if (!chain.length) throw new Error('requestSigning.certificate contains no PEM certificate');
    const leaf = chain[0]!;
    const key = createPrivateKey(privateKeyPem);
    if (!leaf.checkPrivateKey(key)) throw new Error('requestSigning.privateKey does not belong to the leaf (first) certificate');
    if (new Date(leaf.validTo) < new Date()) throw new Error(`requestSigning.certificate expired on ${leaf.validTo}`);
    const x5c = chain.map((cert) => cert.raw.toString('base64'));
    let clientId: string;
    if (prefix === 'x509_san_dns') {
      const sans = (leaf.subjectAltName ?? '').split(', ');
      if (!sans.includes(`DNS:${publicHost}`)) {
        throw new Error(`requestSigning.certificate: x509_san_dns needs a dNSName SAN equal to Herald's host "${publicHost}" (has: ${leaf.subjectAltName ?? 'none'})`);
      }
      clientId = `x509_san_dns:${publicHost}`;
    } else {
      // OpenID4VP §5.9.3: base64url(SHA-256(DER of the leaf)); a test compares it with the library's value.
      clientId = `x509_hash:${createHash('sha256').update(leaf.raw).digest('base64url')}`;
    }
    return new RequestSigner(algorithmFor(key), key, x5c, clientId);
  }

  /** Signs a request object whose header the library built (`alg`, `x5c`, `typ`). */
  async sign(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
    return new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ ...header, alg: this.alg }).sign(this.key);
  }

  /** The leaf's public key as a JWK (what the library wants back from a signing callback). */
  publicJwk(): Record<string, unknown> {
    return new X509Certificate(Buffer.from(this.x5c[0]!, 'base64')).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  }
}

function algorithmFor(key: KeyObject): JwsAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    throw new Error(`requestSigning.privateKey: unsupported EC curve ${curve}`);
  }
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa' || type === 'rsa-pss') return 'PS256';
  throw new Error(`requestSigning.privateKey: unsupported key type ${type}`);
}
