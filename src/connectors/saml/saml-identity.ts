/**
 * Turns a validated assertion into Herald's UpstreamIdentity: the subject for account linking,
 * profile fields from attribute hints, acr/amr from the AuthnContextClassRef, every attribute
 * (multi-valued, by Name and by FriendlyName) for transforms, and the NameID and SessionIndex
 * kept privately for Single Logout.
 */
import type { UpstreamIdentity } from '../connector.js';
import type { SamlUpstream } from '../upstream-protocol.js';
import type { SamlConnectorConfig } from './saml.config.js';
import { attributeMaps, type SignedAssertion, type SignedNameId } from './signed-assertion-reader.js';
import { reject } from './saml-rejection.js';

const CLASS = 'urn:oasis:names:tc:SAML:2.0:ac:classes:';

/** AuthnContextClassRef → RFC 8176 amr values. Configured entries are added to these. */
const DEFAULT_AMR: Record<string, string[]> = {
  [`${CLASS}Password`]: ['pwd'],
  [`${CLASS}PasswordProtectedTransport`]: ['pwd'],
  [`${CLASS}TimeSyncToken`]: ['otp'],
  [`${CLASS}Smartcard`]: ['sc'],
  [`${CLASS}SmartcardPKI`]: ['sc', 'pin'],
  [`${CLASS}Kerberos`]: ['pwd'],
  [`${CLASS}MobileTwoFactorContract`]: ['mfa'],
  [`${CLASS}MobileTwoFactorUnregistered`]: ['mfa'],
  'http://schemas.microsoft.com/claims/multipleauthn': ['mfa'],
};

/** Where profile fields are found when the config gives no hint: X.500/eduPerson OIDs, LDAP names, ADFS/Entra claim URIs. */
const DEFAULT_HINTS = {
  email: ['urn:oid:0.9.2342.19200300.100.1.3', 'mail', 'email', 'emailaddress', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
  givenName: ['urn:oid:2.5.4.42', 'givenName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'],
  familyName: ['urn:oid:2.5.4.4', 'sn', 'surname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'],
  name: ['urn:oid:2.16.840.1.113730.3.1.241', 'displayName', 'http://schemas.microsoft.com/identity/claims/displayname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'],
};

/** What SAML logout needs later; server-side only. */
export interface SamlSessionData {
  issuer: string;
  nameId: SignedNameId | null;
  sessionIndex: string | null;
}

export function identityFromAssertion(config: SamlConnectorConfig, assertion: SignedAssertion): UpstreamIdentity {
  const issuer = assertion.issuer!;
  const { byName, byFriendlyName } = attributeMaps(assertion.attributes);
  // Names first, FriendlyNames for keys no Name uses (an attribute named like another's FriendlyName keeps its own values).
  const attributes: Record<string, string[]> = { ...byName };
  for (const [key, values] of Object.entries(byFriendlyName)) if (!Object.hasOwn(attributes, key)) attributes[key] = values;

  const lookup = (names: string[]): string[] | undefined => {
    for (const name of names) {
      const values = Object.hasOwn(byName, name) ? byName[name] : Object.hasOwn(byFriendlyName, name) ? byFriendlyName[name] : undefined;
      if (values?.length) return values;
    }
    return undefined;
  };
  const first = (names: string[] | undefined, fallback: string[]) => lookup(names ?? fallback)?.[0]?.trim() || undefined;

  let subject: string;
  if (config.subjectAttribute) {
    const values = lookup([config.subjectAttribute]);
    if (values?.length !== 1 || !values[0]) {
      reject('subject_missing', `the subject attribute "${config.subjectAttribute}" must have exactly one non-empty value, it has ${values?.length ?? 0}`);
    }
    subject = values[0];
  } else {
    if (!assertion.nameId?.value) reject('subject_missing', 'the NameID is empty');
    // The same NameID from another IdP is another person: the subject names the IdP too.
    subject = `${issuer}!${assertion.nameId.value}`;
  }

  const email = first(config.attributes.email, DEFAULT_HINTS.email);
  const classRef = assertion.authn?.classRef ?? undefined;
  const amr = classRef ? (config.amr[classRef] ?? DEFAULT_AMR[classRef]) : undefined;
  const authnInstant = assertion.authn?.authnInstant ? Date.parse(assertion.authn.authnInstant) : NaN;

  const protocol: SamlUpstream = {
    kind: 'saml',
    issuer,
    nameId: assertion.nameId?.value ?? '',
    nameIdFormat: assertion.nameId?.format ?? undefined,
    sessionIndex: assertion.authn?.sessionIndex ?? undefined,
    authnContext: classRef,
    attributes: byName,
    friendlyAttributes: byFriendlyName,
  };
  const session: SamlSessionData = { issuer, nameId: assertion.nameId, sessionIndex: assertion.authn?.sessionIndex ?? null };
  return {
    subject,
    email: email && email.includes('@') ? email : undefined,
    emailVerified: !!email && config.trustEmail,
    name: first(config.attributes.name, DEFAULT_HINTS.name),
    givenName: first(config.attributes.givenName, DEFAULT_HINTS.givenName),
    familyName: first(config.attributes.familyName, DEFAULT_HINTS.familyName),
    attributes,
    amr: amr ? [...amr] : undefined,
    acr: classRef,
    authTime: Number.isFinite(authnInstant) ? Math.floor(authnInstant / 1000) : undefined,
    protocol,
    private: { saml: session },
  };
}
