/**
 * A signing key as oidc-provider sees it. Extending ExternalSigningKey lets Herald sign with
 * synchronous node:crypto instead of jose's WebCrypto dispatch, which costs about a third of
 * the CPU of a token (see ../shared/STACK.md, "Performance levers").
 */
import { constants, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { ExternalSigningKey } from 'oidc-provider';
import type { SigningAlgorithm } from '../config/config.schema.js';

interface AlgorithmProfile {
  digest: string | null;
  options: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number };
}

const PROFILES: Record<SigningAlgorithm, AlgorithmProfile> = {
  ES256: { digest: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { digest: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  RS256: { digest: 'sha256', options: {} },
  PS256: { digest: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  EdDSA: { digest: null, options: {} },
};

export class HeraldSigningKey extends ExternalSigningKey {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #profile: AlgorithmProfile;

  constructor(kid: string, alg: SigningAlgorithm, privateJwk: Record<string, unknown>) {
    super();
    // The typings mark these read-only; oidc-provider's ExternalSigningKey defines setters for them.
    (this as { kid: string }).kid = kid;
    (this as { alg: string }).alg = alg;
    this.#privateKey = createPrivateKey({ key: privateJwk as any, format: 'jwk' });
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#profile = PROFILES[alg];
  }

  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  override sign(data: Uint8Array): Buffer {
    return sign(this.#profile.digest, data, { key: this.#privateKey, ...this.#profile.options } as any);
  }

  /** Never serialize private material, whatever logs or inspects this object. */
  toJSON(): Record<string, unknown> {
    return { kid: this.kid, alg: this.alg };
  }
}
