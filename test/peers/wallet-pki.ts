/**
 * Test certificates for the wallet flows, made with @peculiar/x509 on node's WebCrypto: a
 * verifier CA and Herald's request-signing leaf (dNSName SAN), an issuer CA and issuer leaf
 * (URI SAN = credential `iss`), and rogue CAs for attack cases.
 */
import 'reflect-metadata'; // @peculiar/x509 → tsyringe needs the Reflect polyfill
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' };

export interface TestCa {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
  pem: string;
  /** Standard base64 DER (an x5c entry). */
  der: string;
}

export interface TestLeaf extends TestCa {
  privateKey: KeyObject;
  privateKeyPem: string;
  privateJwk: JsonWebKey;
}

export type San = { type: 'dns' | 'url'; value: string };

async function generate(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function makeCa(name: string): Promise<TestCa> {
  const keys = await generate();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    keys,
    signingAlgorithm: SIGNING,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 86400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert, keys, pem: cert.toString('pem'), der: cert.toString('base64') };
}

export async function makeLeaf(ca: TestCa, subject: string, sans: San[], validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<TestLeaf> {
  const keys = await generate();
  const cert = await x509.X509CertificateGenerator.create({
    subject,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGNING,
    notBefore: validity.notBefore ?? new Date(Date.now() - 3600_000),
    notAfter: validity.notAfter ?? new Date(Date.now() + 30 * 86400_000),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.SubjectAlternativeNameExtension(sans),
    ],
  });
  const privateJwk = (await webcrypto.subtle.exportKey('jwk', keys.privateKey)) as JsonWebKey;
  const privateKey = createPrivateKey({ key: privateJwk as any, format: 'jwk' });
  return {
    cert,
    keys,
    pem: cert.toString('pem'),
    der: cert.toString('base64'),
    privateKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    privateJwk,
  };
}
