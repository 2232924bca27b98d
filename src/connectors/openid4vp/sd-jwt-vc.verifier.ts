/**
 * Verifies one SD-JWT VC presentation (`dc+sd-jwt`) for one transaction. @sd-jwt/core's
 * `SDJwtInstance.verify()` checks the issuer signature (with the key Herald chose), unpacks the
 * disclosures and verifies the KB-JWT signature, nonce and sd_hash; around it Herald adds what
 * the library leaves out (see docs/connectors-wallet.md): format and size limits, issuer `typ`
 * and `alg`, `_sd_alg` allow-list, validity times from the signed payload, issuer trust, key
 * binding required by policy, disclosure integrity, KB `aud` = the full client identifier, KB
 * `iat` window, `sd_hash` over the received bytes, and the status list.
 *
 * Every failure is a PresentationRejected with a named check. Order: structure → issuer header →
 * validity → trust → key-binding preconditions → signatures (library) → disclosures → KB claims
 * → status (status is only consulted for an otherwise valid credential, per the status list spec).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SDJwtInstance } from '@sd-jwt/core';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { checkDisclosures } from './disclosures.js';
import type { IssuerTrust } from './issuer-trust.js';
import { B64URL, COMPACT_JWS, decodeJsonPart, isAllowedAlg, verifyJws, type JwsAlgorithm } from './jws.js';
import { PresentationRejected, reject } from './presentation-rejected.js';
import { STATUS_INVALID, STATUS_SUSPENDED, STATUS_VALID, type StatusListClient } from './status-list.client.js';

const SD_ALGORITHMS: Record<string, string> = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };
const MAX_PRESENTATION_CHARS = 64 * 1024;
const MAX_DISCLOSURES = 256;
const CREDENTIAL_TYP = 'dc+sd-jwt';

export interface PresentationContext {
  /** Full client identifier including its prefix: the only accepted KB-JWT `aud`. */
  clientId: string;
  /** This transaction's nonce. */
  nonce: string;
  keyBindingRequired: boolean;
  trust: IssuerTrust;
  /** Set when status lists are checked. */
  status?: StatusListClient;
  /** Reject credentials without a `status` claim (only with `status`). */
  statusRequired: boolean;
  requireExpiry: boolean;
  clockSkewSeconds: number;
  keyBindingMaxAgeSeconds: number;
  /** Seconds since epoch (tests); default now. */
  now?: number;
}

export interface VerifiedCredential {
  issuer: string;
  vct: string;
  /** Plaintext plus disclosed claims after unpacking (no `_sd`), for DCQL matching. */
  claims: Record<string, unknown>;
  /** A KB-JWT was present and verified. */
  holderBound: boolean;
  /** RFC 7638 thumbprint of `cnf.jwk`, when the credential has one. */
  holderKeyThumbprint?: string;
  /** Seconds since epoch of the KB-JWT, when bound. */
  presentedAt?: number;
  /** What the once-only guard claims for this presentation (see `replayKeyOf`). */
  replayKey: string;
}

export async function verifySdJwtVcPresentation(presentation: unknown, ctx: PresentationContext): Promise<VerifiedCredential> {
  const now = ctx.now ?? Math.floor(Date.now() / 1000);
  const skew = ctx.clockSkewSeconds;

  // 1. structure: <issuer-jwt>~<disclosure>~…~<kb-jwt or empty>
  if (typeof presentation !== 'string') reject('format', 'a dc+sd-jwt presentation must be a string');
  if (presentation.length > MAX_PRESENTATION_CHARS) reject('format', 'presentation too large');
  const parts = presentation.split('~');
  if (parts.length < 2) reject('format', 'not an SD-JWT (no ~ separator)');
  const issuerJwt = parts[0]!;
  const kbJwt = parts[parts.length - 1]!;
  const disclosures = parts.slice(1, -1);
  if (!COMPACT_JWS.test(issuerJwt)) reject('format', 'the issuer-signed JWT is malformed');
  if (kbJwt !== '' && !COMPACT_JWS.test(kbJwt)) reject('format', 'the last element is neither empty nor a KB-JWT (missing trailing ~?)');
  if (disclosures.length > MAX_DISCLOSURES) reject('format', 'too many disclosures');
  if (!disclosures.every((d) => B64URL.test(d))) reject('format', 'an empty or non-base64url disclosure');
  const boundPart = presentation.slice(0, presentation.length - kbJwt.length); // "<jwt>~<d1>~…~<dn>~"

  // 2. issuer JWT header
  const [h64, p64] = issuerJwt.split('.') as [string, string];
  let header: Record<string, any>;
  let payload: Record<string, any>;
  try {
    header = decodeJsonPart(h64);
    payload = decodeJsonPart(p64);
  } catch {
    reject('issuer_jwt_header', 'the issuer-signed JWT cannot be decoded');
  }
  if (header.typ !== CREDENTIAL_TYP) reject('issuer_jwt_header', `typ ${String(header.typ)} is not ${CREDENTIAL_TYP}`);
  if (!isAllowedAlg(header.alg)) reject('issuer_jwt_header', `alg ${String(header.alg)} not accepted`);
  if (header.crit !== undefined) reject('issuer_jwt_header', 'crit is not supported');

  // 3. digest algorithm (the library would hash with anything the issuer names, md5 included)
  const sdAlg = payload._sd_alg ?? 'sha-256';
  const nodeHash = typeof sdAlg === 'string' ? SD_ALGORITHMS[sdAlg] : undefined;
  if (!nodeHash) reject('sd_alg', `_sd_alg ${JSON.stringify(payload._sd_alg)} not allowed`);
  const digest = (input: string) => createHash(nodeHash).update(input).digest('base64url');

  // 4. validity, from the signed payload only
  if (payload.exp === undefined) {
    if (ctx.requireExpiry) reject('credential_expired', 'the credential has no exp and policy requires one');
  } else if (typeof payload.exp !== 'number' || payload.exp + skew <= now) {
    reject('credential_expired', `exp ${String(payload.exp)} has passed`);
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf - skew > now)) reject('credential_not_yet_valid', `nbf ${String(payload.nbf)} is in the future`);
  if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat - skew > now)) reject('credential_not_yet_valid', `iat ${String(payload.iat)} is in the future`);
  if (typeof payload.vct !== 'string' || !payload.vct) reject('vct', 'the credential has no vct');

  // 5. issuer trust → key
  const issuerKey = await ctx.trust.keyFor(ctx.trust.entryFor(payload.iss), header, 'issuer_untrusted');

  // 6. key binding preconditions: decided by policy, never by whether the wallet sent a KB-JWT
  const cnfJwk = payload.cnf?.jwk as JWK | undefined;
  let kbHeader: Record<string, any> | undefined;
  let kbPayload: Record<string, any> | undefined;
  let holderKey: KeyObject | undefined;
  if (kbJwt === '') {
    if (ctx.keyBindingRequired) reject('kb_missing', 'key binding is required but the presentation has no KB-JWT');
  } else {
    const [kh, kp] = kbJwt.split('.') as [string, string];
    try {
      kbHeader = decodeJsonPart(kh);
      kbPayload = decodeJsonPart(kp);
    } catch {
      reject('kb_malformed', 'the KB-JWT cannot be decoded');
    }
    if (kbHeader.typ !== 'kb+jwt') reject('kb_typ', `KB-JWT typ ${String(kbHeader.typ)} is not kb+jwt`);
    if (!isAllowedAlg(kbHeader.alg)) reject('kb_alg', `KB-JWT alg ${String(kbHeader.alg)} not accepted`);
    if (kbHeader.crit !== undefined) reject('kb_malformed', 'crit is not supported');
  }
  if ((kbJwt !== '' || ctx.keyBindingRequired) && (!cnfJwk || typeof cnfJwk !== 'object' || Array.isArray(cnfJwk))) {
    reject('cnf_missing', 'the credential has no cnf.jwk to bind a holder key');
  }
  let holderKeyThumbprint: string | undefined;
  if (cnfJwk && typeof cnfJwk === 'object' && !Array.isArray(cnfJwk)) {
    if ('d' in cnfJwk || 'k' in cnfJwk || 'p' in cnfJwk) reject('cnf_invalid', 'cnf.jwk is not a public key');
    try {
      holderKey = createPublicKey({ key: cnfJwk as any, format: 'jwk' });
      holderKeyThumbprint = await calculateJwkThumbprint(cnfJwk, 'sha256');
    } catch {
      if (kbJwt !== '' || ctx.keyBindingRequired) reject('cnf_invalid', 'cnf.jwk is not a usable public key');
      holderKey = undefined;
      holderKeyThumbprint = undefined;
    }
  }

  // 7. signatures through the library, with keys Herald resolved; record what each callback saw
  const seen: { issuer?: boolean; kb?: boolean } = {};
  const sdJwt = new SDJwtInstance({
    hasher: (data, alg) => {
      if (alg !== sdAlg) throw new PresentationRejected('sd_alg', `hasher asked for ${alg}`);
      return new Uint8Array(createHash(nodeHash).update(typeof data === 'string' ? data : Buffer.from(data)).digest());
    },
    verifier: (data, signature) => (seen.issuer = verifyJws(header.alg as JwsAlgorithm, issuerKey, data, signature)),
    // The library passes its *unpacked* claims here; the key comes from the signed cnf instead.
    kbVerifier: (data, signature) => (seen.kb = !!holderKey && verifyJws(kbHeader!.alg as JwsAlgorithm, holderKey, data, signature)),
  });
  let result: Awaited<ReturnType<typeof sdJwt.verify>>;
  try {
    result = await sdJwt.verify(presentation, {
      currentDate: now,
      skewSeconds: skew,
      // Without a nonce the library ignores the KB-JWT entirely: always pass it when one is present.
      ...(kbJwt !== '' ? { keyBindingNonce: ctx.nonce } : {}),
    });
  } catch (error) {
    if (error instanceof PresentationRejected) throw error;
    if (seen.issuer === false) reject('issuer_signature', 'the issuer signature is invalid', 'invalid_request', error);
    if (seen.kb === false) reject('kb_signature', 'the KB-JWT is not signed by cnf.jwk', 'invalid_request', error);
    if (kbPayload) checkKeyBindingClaims(kbPayload, ctx, now, digest(boundPart));
    reject('sdjwt_invalid', String((error as Error).message ?? error), 'invalid_request', error);
  }
  if (seen.issuer !== true) reject('issuer_signature', 'the issuer signature was not verified');
  if (kbJwt !== '' && (seen.kb !== true || !result.kb)) reject('kb_signature', 'the KB-JWT signature was not verified');

  // 8. disclosure integrity (RFC 9901 §7.1), over the signed payload
  checkDisclosures(payload, disclosures, digest);

  // 9. KB-JWT claims the library does not check (aud, iat) and sd_hash over the received bytes
  if (kbPayload) checkKeyBindingClaims(kbPayload, ctx, now, digest(boundPart));

  // 10. status list, from the signed payload only
  if (ctx.status) {
    const status = payload.status;
    if (status === undefined) {
      if (ctx.statusRequired) reject('status_missing', 'the credential has no status claim');
    } else {
      const list = status?.status_list;
      if (!list || typeof list.uri !== 'string' || !Number.isSafeInteger(list.idx) || list.idx < 0) reject('status_malformed', 'malformed status.status_list');
      const value = await ctx.status.statusOf(list.uri, list.idx, payload.iss);
      if (value === STATUS_INVALID) reject('status_revoked', `status list entry ${list.idx} is INVALID`, 'access_denied');
      if (value === STATUS_SUSPENDED) reject('status_suspended', `status list entry ${list.idx} is SUSPENDED`, 'access_denied');
      if (value !== STATUS_VALID) reject('status_unknown', `status list entry ${list.idx} has value ${value}`);
    }
  }

  return {
    issuer: payload.iss,
    vct: payload.vct,
    claims: result.payload as Record<string, unknown>,
    holderBound: !!kbPayload,
    holderKeyThumbprint,
    presentedAt: kbPayload?.iat,
    replayKey: replayKeyOf(`${h64}.${p64}`, kbPayload?.nonce as string | undefined),
  };
}

/**
 * "A presentation is accepted once", independent of how it is encoded. The signed bytes of the
 * issuer JWT (header.payload) identify the credential; its signature does not (ECDSA signatures
 * are malleable: (r, n − s) verifies too), nor do the order or the selection of disclosures. So:
 *  - bearer (no KB-JWT): the credential itself, once — re-signed, reordered or with fewer
 *    disclosures, a copy is still the same credential;
 *  - key-bound: the credential in this transaction (the verified KB-JWT nonce), so the holder can
 *    present it again in later transactions.
 */
function replayKeyOf(signedIssuerPart: string, kbNonce: string | undefined): string {
  const parts = kbNonce === undefined ? ['bearer', signedIssuerPart] : ['kb', signedIssuerPart, kbNonce];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

/** KB-JWT claim checks (RFC 9901 §7.3 and OpenID4VP B.3.6). */
function checkKeyBindingClaims(kb: Record<string, any>, ctx: PresentationContext, now: number, expectedSdHash: string): void {
  const skew = ctx.clockSkewSeconds;
  // The full client identifier with its prefix, as one string: no arrays, no bare host.
  if (typeof kb.aud !== 'string' || kb.aud !== ctx.clientId) reject('kb_aud', `aud ${JSON.stringify(kb.aud)} is not ${ctx.clientId}`);
  if (kb.nonce !== ctx.nonce) reject('kb_nonce', 'the KB-JWT nonce is not this transaction\'s nonce');
  if (typeof kb.iat !== 'number') reject('kb_iat', 'the KB-JWT has no iat');
  if (kb.iat > now + skew) reject('kb_iat', `iat ${kb.iat} is in the future`);
  if (kb.iat < now - ctx.keyBindingMaxAgeSeconds - skew) reject('kb_iat', `iat ${kb.iat} is older than ${ctx.keyBindingMaxAgeSeconds} s`);
  if (kb.exp !== undefined && (typeof kb.exp !== 'number' || kb.exp + skew <= now)) reject('kb_iat', 'the KB-JWT has expired');
  if (kb.sd_hash !== expectedSdHash) reject('sd_hash', 'sd_hash does not match the presented SD-JWT and disclosures');
}
