/**
 * JWS signature checks with node:crypto for keys Herald has already chosen (issuer keys from
 * trusted config, holder keys from the signed `cnf`). Only the algorithms listed here are
 * accepted anywhere in the wallet connector; `none` and HMAC never are.
 */
import { constants, verify, type KeyObject } from 'node:crypto';

export const JWS_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'PS384', 'PS512'] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

export function isAllowedAlg(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && (JWS_ALGORITHMS as readonly string[]).includes(alg);
}

function digestOf(alg: JwsAlgorithm): string | null {
  return alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
}

const CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Whether `key` is of the kind `alg` names (no ES256 header over a P-384 key, no EdDSA over EC). */
export function keyFitsAlg(alg: JwsAlgorithm, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[alg];
}

/** True when `signature` (base64url) is a valid JWS signature by `key` over `signingInput`. */
export function verifyJws(alg: JwsAlgorithm, key: KeyObject, signingInput: string, signature: string): boolean {
  if (!keyFitsAlg(alg, key)) return false;
  const options: Parameters<typeof verify>[2] = alg.startsWith('PS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
    : { key, dsaEncoding: 'ieee-p1363' };
  try {
    return verify(digestOf(alg), Buffer.from(signingInput, 'ascii'), options, Buffer.from(signature, 'base64url'));
  } catch {
    return false; // wrong key type for the algorithm, malformed signature
  }
}

/** Decodes a base64url JSON object (JWT header or payload); throws on anything else. */
export function decodeJsonPart(part: string): Record<string, any> {
  const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
  return value;
}

export const B64URL = /^[A-Za-z0-9_-]+$/;
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
