/**
 * Allow-lists of XML-DSig and XML-Enc algorithms. xml-crypto 6 still accepts RSA-SHA1 and SHA-1
 * digests, xml-encryption accepts rsa-1_5 and 3DES: Herald refuses them before the libraries run.
 */
import { ALG } from './xml-names.js';
import { reject } from './saml-rejection.js';

export interface AlgorithmPolicy {
  signature: readonly string[];
  digest: readonly string[];
  canonicalization: readonly string[];
  transform: readonly string[];
  keyTransport: readonly string[];
  dataEncryption: readonly string[];
  /** SigAlg values of Redirect-binding query signatures. */
  redirectSignature: readonly string[];
}

const STRICT: AlgorithmPolicy = {
  signature: [ALG.rsaSha256, ALG.rsaSha512, ALG.rsaPssSha256],
  digest: [ALG.sha256, ALG.sha512],
  // The #WithComments variants are refused: comments must never be part of signed content.
  canonicalization: [ALG.excC14n, ALG.c14n],
  transform: [ALG.enveloped, ALG.excC14n, ALG.c14n],
  // rsa-1_5 is refused (Bleichenbacher); Node 20 refuses PKCS#1 v1.5 decryption anyway.
  keyTransport: [ALG.rsaOaepMgf1p],
  dataEncryption: [ALG.aes128gcm, ALG.aes256gcm, ALG.aes128cbc, ALG.aes256cbc],
  redirectSignature: [ALG.rsaSha256, ALG.rsaSha512],
};

export function algorithmPolicy(allowSha1: boolean): AlgorithmPolicy {
  if (!allowSha1) return STRICT;
  return {
    ...STRICT,
    signature: [...STRICT.signature, ALG.rsaSha1],
    digest: [...STRICT.digest, ALG.sha1],
    redirectSignature: [...STRICT.redirectSignature, ALG.rsaSha1],
  };
}

const SHA1 = new Set<string>([ALG.rsaSha1, ALG.sha1]);

/** Refuses `algorithm` unless it is in `allowed`; SHA-1 gets its own reason code. */
export function requireAllowed(algorithm: string | null, allowed: readonly string[], what: string): void {
  if (algorithm !== null && allowed.includes(algorithm)) return;
  if (algorithm !== null && SHA1.has(algorithm)) reject('sha1_not_allowed', `${what} ${algorithm} uses SHA-1, which this connector does not allow`);
  reject('algorithm_not_allowed', `${what} ${algorithm ?? '(none)'} is not allowed`);
}
