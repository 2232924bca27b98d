/**
 * The UpstreamIdentity of a verified wallet presentation. The subject combines the credential
 * issuer with either a configured stable claim or the holder key thumbprint (OpenID4VP security
 * considerations: a claim alone is only unique per issuer). Attributes are the claims the DCQL
 * query asked for, as disclosed — nothing the query did not request, even if the wallet sent it.
 */
import type { UpstreamIdentity } from '../connector.js';
import { reject } from './presentation-rejected.js';
import type { VerifiedResponse } from './response.verifier.js';

/** RFC 8176-style `amr` values: a wallet presentation, and proof of possession of the holder key. */
export const WALLET_AMR = 'wallet';
const MAX_SUBJECT_VALUE = 512;

export function walletIdentity(verified: VerifiedResponse, subjectClaim: Array<string | number> | undefined, now = Date.now()): UpstreamIdentity {
  const { credential, requestedClaims } = verified;
  let subject: string;
  if (subjectClaim) {
    const value = readPath(requestedClaims, subjectClaim);
    if ((typeof value !== 'string' || !value) && !(typeof value === 'number' && Number.isFinite(value))) {
      reject('subject_claim_missing', `the credential did not disclose ${JSON.stringify(subjectClaim)} as a string or number`);
    }
    const text = String(value);
    if (text.length > MAX_SUBJECT_VALUE) reject('subject_claim_invalid', 'the subject claim is too long');
    subject = `${credential.issuer}|${subjectClaim.join('.')}:${text}`;
  } else {
    if (!credential.holderKeyThumbprint) reject('subject_unavailable', 'the credential has no holder key to identify the user by');
    subject = `${credential.issuer}|jkt:${credential.holderKeyThumbprint}`;
  }
  const text = (name: string) => (typeof requestedClaims[name] === 'string' && requestedClaims[name] ? (requestedClaims[name] as string) : undefined);
  const givenName = text('given_name');
  const familyName = text('family_name');
  return {
    subject,
    email: text('email'),
    emailVerified: requestedClaims.email_verified === true,
    name: text('name') ?? ([givenName, familyName].filter(Boolean).join(' ') || undefined),
    givenName,
    familyName,
    attributes: requestedClaims,
    amr: credential.holderBound ? [WALLET_AMR, 'pop'] : [WALLET_AMR],
    authTime: Math.floor(now / 1000),
    protocol: {
      kind: 'wallet',
      format: 'dc+sd-jwt',
      credentialType: credential.vct,
      issuer: credential.issuer,
      claims: requestedClaims,
      holderKeyThumbprint: credential.holderKeyThumbprint,
    },
  };
}

function readPath(root: unknown, path: Array<string | number>): unknown {
  let current = root;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!current || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, step)) return undefined;
      current = (current as Record<string, unknown>)[step];
    }
  }
  return current;
}
