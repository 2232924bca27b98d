import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../config/config.schema.js';

export interface GeneratedKey {
  kid: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

function pair(alg: SigningAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ES384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'RS256':
    case 'PS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

export function generateSigningKey(alg: SigningAlgorithm): GeneratedKey {
  const { privateKey, publicKey } = pair(alg);
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 13)}`;
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, privateJwk, publicJwk };
}
