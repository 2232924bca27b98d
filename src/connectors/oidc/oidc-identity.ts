/**
 * Turns verified ID token claims (and userinfo claims, when read) into an UpstreamIdentity,
 * following the connector's claim mapping. The subject always comes from the ID token: userinfo
 * is not signed, and openid-client has already checked that its `sub` matches.
 */
import { ConnectorError, type UpstreamIdentity } from '../connector.js';
import type { OidcConnectorConfig } from './oidc.config.js';

type Claims = Record<string, unknown>;

/** Protocol claims of the ID token that say nothing about the user; not copied into attributes. */
const ID_TOKEN_PROTOCOL_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'];

export function identityFromClaims(
  config: Pick<OidcConnectorConfig, 'claims' | 'assumeEmailVerified'>,
  issuer: string,
  idToken: Claims,
  userinfo: Claims,
): UpstreamIdentity {
  const map = config.claims;
  const subject = stringClaim(idToken[map.subject]) ?? (typeof idToken[map.subject] === 'number' ? String(idToken[map.subject]) : undefined);
  if (!subject) throw new ConnectorError('upstream_protocol', 'missing_subject', `the ID token has no usable "${map.subject}" claim`);
  if (subject.length > 255) throw new ConnectorError('upstream_protocol', 'invalid_subject', 'the upstream subject is longer than 255 characters');

  const idClaims = Object.fromEntries(Object.entries(idToken).filter(([name]) => !ID_TOKEN_PROTOCOL_CLAIMS.includes(name)));
  // Userinfo fills in profile claims; the ID token's own values win where both have one.
  const merged: Claims = { ...userinfo, ...idClaims };
  const email = stringClaim(merged[map.email]);
  const amr = Array.isArray(idToken.amr) ? idToken.amr.filter((value): value is string => typeof value === 'string') : undefined;
  return {
    subject,
    email: email?.toLowerCase(),
    emailVerified: email ? merged[map.emailVerified] === true || config.assumeEmailVerified : false,
    name: stringClaim(merged[map.name]),
    givenName: stringClaim(merged[map.givenName]),
    familyName: stringClaim(merged[map.familyName]),
    attributes: merged,
    amr: amr?.length ? amr : undefined,
    acr: stringClaim(idToken.acr),
    authTime: typeof idToken.auth_time === 'number' ? idToken.auth_time : undefined,
    protocol: { kind: 'oidc', issuer, idToken: idClaims, userinfo },
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}
