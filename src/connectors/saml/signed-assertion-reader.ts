/**
 * Reads identity data from the signed assertion only: the canonical XML that node-saml's verified
 * signature covers (`profile.getAssertionXml()`), never the raw response. Canonical XML carries no
 * DTD and no comments, so text values are whole: `user@example.com<!---->.evil.com` reads as
 * `user@example.com.evil.com`, never as `user@example.com`.
 */
import type { Element } from '@xmldom/xmldom';
import { attr, child, children, text } from './xml-dom.js';
import { NS } from './xml-names.js';
import { reject } from './saml-rejection.js';
import { parseStrict } from './xml-strict-parser.js';

export interface SignedNameId {
  value: string;
  format: string | null;
  nameQualifier: string | null;
  spNameQualifier: string | null;
}

export interface SubjectConfirmation {
  method: string | null;
  recipient: string | null;
  notBefore: string | null;
  notOnOrAfter: string | null;
  inResponseTo: string | null;
}

export interface SamlAttribute {
  name: string;
  nameFormat: string | null;
  friendlyName: string | null;
  /** String values; complex values (e.g. a NameID) as their XML; xsi:nil values are dropped. */
  values: string[];
}

export interface SignedAssertion {
  id: string | null;
  issueInstant: string | null;
  issuer: string | null;
  issuerFormat: string | null;
  nameId: SignedNameId | null;
  hasEncryptedId: boolean;
  subjectConfirmations: SubjectConfirmation[];
  conditions: { notBefore: string | null; notOnOrAfter: string | null };
  audiences: string[];
  authn: { authnInstant: string | null; sessionIndex: string | null; sessionNotOnOrAfter: string | null; classRef: string | null } | null;
  attributes: SamlAttribute[];
  hasEncryptedAttributes: boolean;
}

export function readSignedAssertion(canonicalXml: string): SignedAssertion {
  const assertion = parseStrict(canonicalXml, { allowComments: false }).documentElement!;
  if (assertion.localName !== 'Assertion' || assertion.namespaceURI !== NS.saml) reject('unexpected_message', 'the signed content is not a saml:Assertion');
  const s = (el: Element | null, name: string) => child(el, NS.saml, name);
  const ss = (el: Element | null, name: string) => children(el, NS.saml, name);
  const issuer = s(assertion, 'Issuer');
  const subject = s(assertion, 'Subject');
  const nameId = s(subject, 'NameID');
  const conditions = s(assertion, 'Conditions');
  const authn = s(assertion, 'AuthnStatement');
  const statements = ss(assertion, 'AttributeStatement');
  return {
    id: attr(assertion, 'ID'),
    issueInstant: attr(assertion, 'IssueInstant'),
    issuer: text(issuer),
    issuerFormat: attr(issuer, 'Format'),
    nameId: nameId
      ? { value: nameId.textContent ?? '', format: attr(nameId, 'Format'), nameQualifier: attr(nameId, 'NameQualifier'), spNameQualifier: attr(nameId, 'SPNameQualifier') }
      : null,
    hasEncryptedId: !!s(subject, 'EncryptedID'),
    subjectConfirmations: ss(subject, 'SubjectConfirmation').map((confirmation) => {
      const data = s(confirmation, 'SubjectConfirmationData');
      return {
        method: attr(confirmation, 'Method'),
        recipient: attr(data, 'Recipient'),
        notBefore: attr(data, 'NotBefore'),
        notOnOrAfter: attr(data, 'NotOnOrAfter'),
        inResponseTo: attr(data, 'InResponseTo'),
      };
    }),
    conditions: { notBefore: attr(conditions, 'NotBefore'), notOnOrAfter: attr(conditions, 'NotOnOrAfter') },
    audiences: ss(conditions, 'AudienceRestriction').flatMap((r) => ss(r, 'Audience').map((a) => a.textContent ?? '')),
    authn: authn
      ? {
          authnInstant: attr(authn, 'AuthnInstant'),
          sessionIndex: attr(authn, 'SessionIndex'),
          sessionNotOnOrAfter: attr(authn, 'SessionNotOnOrAfter'),
          classRef: text(s(s(authn, 'AuthnContext'), 'AuthnContextClassRef'))?.trim() ?? null,
        }
      : null,
    attributes: statements.flatMap((statement) =>
      ss(statement, 'Attribute').map((attribute) => ({
        name: attr(attribute, 'Name') ?? '',
        nameFormat: attr(attribute, 'NameFormat'),
        friendlyName: attr(attribute, 'FriendlyName'),
        values: ss(attribute, 'AttributeValue')
          .filter((v) => v.getAttributeNS(NS.xsi, 'nil') !== 'true')
          .map((v) => (children(v).length ? v.toString() : (v.textContent ?? ''))),
      })),
    ),
    hasEncryptedAttributes: statements.some((statement) => ss(statement, 'EncryptedAttribute').length > 0),
  };
}

/** Keys no attribute map may have (they would reach object prototypes in careless consumers). */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Attributes as multi-valued arrays by Name and by FriendlyName (repeated names are merged). */
export function attributeMaps(attributes: SamlAttribute[]): { byName: Record<string, string[]>; byFriendlyName: Record<string, string[]> } {
  const byName: Record<string, string[]> = {};
  const byFriendlyName: Record<string, string[]> = {};
  const add = (map: Record<string, string[]>, key: string, values: string[]) => {
    if (!key || UNSAFE_KEYS.has(key)) return;
    if (!Object.hasOwn(map, key)) map[key] = [];
    map[key]!.push(...values);
  };
  for (const attribute of attributes) {
    add(byName, attribute.name, attribute.values);
    if (attribute.friendlyName) add(byFriendlyName, attribute.friendlyName, attribute.values);
  }
  return { byName, byFriendlyName };
}
