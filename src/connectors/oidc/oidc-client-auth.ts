/**
 * Token endpoint authentication of Herald at the IdP: a client secret (HTTP Basic or form post)
 * or private_key_jwt with a private key from config or a file. Keys are imported once, at boot,
 * as non-extractable CryptoKeys; a bad key fails the boot with the connector's id.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { importJWK, importPKCS8, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { OidcConnectorConfig } from './oidc.config.js';

export interface ClientAuthentication {
  auth: oidc.ClientAuth;
  /** Client metadata for openid-client (the secret, when one is used). */
  metadata: Partial<oidc.ClientMetadata>;
}

export async function clientAuthentication(config: OidcConnectorConfig, configDir: string): Promise<ClientAuthentication> {
  switch (config.authMethod) {
    case 'client_secret_basic':
      return { auth: oidc.ClientSecretBasic(config.clientSecret!), metadata: { client_secret: config.clientSecret } };
    case 'client_secret_post':
      return { auth: oidc.ClientSecretPost(config.clientSecret!), metadata: { client_secret: config.clientSecret } };
    case 'private_key_jwt': {
      const key = await loadPrivateKey(config, configDir);
      return { auth: oidc.PrivateKeyJwt(key), metadata: { token_endpoint_auth_method: 'private_key_jwt' } };
    }
  }
}

async function loadPrivateKey(config: OidcConnectorConfig, configDir: string): Promise<oidc.PrivateKey> {
  let material: Record<string, unknown> | string;
  if (config.privateKeyFile) {
    const text = readFileSync(resolve(configDir, config.privateKeyFile), 'utf8').trim();
    material = text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text;
  } else {
    material = config.privateKey!;
  }
  if (typeof material === 'string') {
    if (!material.includes('-----BEGIN PRIVATE KEY-----')) throw new Error('the private key must be a PKCS#8 PEM ("BEGIN PRIVATE KEY") or a JWK');
    const alg = config.privateKeyAlg ?? pemDefaultAlg(material);
    const key = await importPKCS8(material, alg, { extractable: false });
    return { key, kid: config.privateKeyId };
  }
  const jwk = material as JWK;
  if (typeof jwk.d !== 'string') throw new Error('the JWK is not a private key (no "d")');
  const alg = config.privateKeyAlg ?? jwk.alg ?? jwkDefaultAlg(jwk);
  const key = await importJWK({ ...jwk, ext: false }, alg);
  if (key instanceof Uint8Array) throw new Error('a symmetric key cannot be used for private_key_jwt');
  return { key, kid: config.privateKeyId ?? jwk.kid };
}

function jwkDefaultAlg(jwk: JWK): string {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  throw new Error(`unsupported key type "${String(jwk.kty)}"`);
}

/** PKCS#8 does not name a JWS algorithm: derive it from the key type (privateKeyAlg overrides it). */
function pemDefaultAlg(pem: string): string {
  const key = createPrivateKey(pem);
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw new Error(`unsupported key type "${String(key.asymmetricKeyType)}"`);
  }
}
