/**
 * Loads the certificates and keys of a SAML connector at boot (PEM text or files) and checks them
 * once: certificates parse, keys are RSA (xml-crypto verifies and xml-encryption decrypts RSA
 * only), and every private key matches its certificate. Mistakes fail the boot with the key name.
 */
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export class SamlCredentialError extends Error {
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'SamlCredentialError';
  }
}

function pemText(value: string, configDir: string, key: string): string {
  if (value.includes('-----BEGIN')) return value;
  const path = resolve(configDir, value);
  if (!existsSync(path)) throw new SamlCredentialError(key, `not PEM text, and no file at ${path}`);
  return readFileSync(path, 'utf8');
}

/** Normalizes a certificate to PEM (bare base64 from metadata is accepted). */
export function certificatePem(value: string, key: string): string {
  const body = value.includes('-----BEGIN CERTIFICATE-----') ? value : `-----BEGIN CERTIFICATE-----\n${value.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(body);
  } catch (error) {
    throw new SamlCredentialError(key, `not an X.509 certificate (${(error as Error).message})`);
  }
  if (cert.publicKey.asymmetricKeyType !== 'rsa' && cert.publicKey.asymmetricKeyType !== 'rsa-pss') {
    throw new SamlCredentialError(key, `${cert.publicKey.asymmetricKeyType} certificates are not supported (xml-crypto verifies RSA signatures only)`);
  }
  return cert.toString();
}

export function loadCertificate(value: string, configDir: string, key: string): string {
  return certificatePem(pemText(value, configDir, key), key);
}

export interface LoadedKeyPair {
  key: string;
  certificate: string;
}

export function loadKeyPair(pair: { key: string; certificate: string }, configDir: string, key: string): LoadedKeyPair {
  const keyPem = pemText(pair.key, configDir, `${key}.key`);
  const certificate = loadCertificate(pair.certificate, configDir, `${key}.certificate`);
  let privateKey;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (error) {
    throw new SamlCredentialError(`${key}.key`, `not a private key (${(error as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new SamlCredentialError(`${key}.key`, 'expected an RSA private key');
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCert = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) throw new SamlCredentialError(key, 'the private key does not belong to the certificate');
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), certificate };
}

/** Base64 body of a PEM certificate (what ds:X509Certificate holds). */
export function certificateBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}
