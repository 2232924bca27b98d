/**
 * Why Herald refused a SAML message. Every check of the connector fails with one of these stable
 * reason codes; the code is what the `saml.assertion_rejected` audit event names, the message is
 * private detail for the log (never shown to the user or the client).
 */
import { ConnectorError, type ConnectorErrorKind } from '../connector.js';

export const SAML_REJECTION_REASONS = [
  /** Not exactly one base64 string field, not UTF-8, or a query that is not a SAML message. */
  'malformed_message',
  /** Raw, decoded or inflated size over the configured caps. */
  'message_too_large',
  /** DOCTYPE / ENTITY / ELEMENT / ATTLIST / NOTATION declarations (XXE, entity expansion). */
  'dtd_forbidden',
  /** An XML comment (comment injection into NameID and attribute values). */
  'xml_comment',
  /** Not well-formed, processing instructions, foreign encodings, too many elements, too deep. */
  'malformed_xml',
  /** Wrong root element or missing required element. */
  'unexpected_message',
  /** Signature wrapping: duplicate IDs, several assertions, signatures in unexpected places. */
  'signature_wrapping',
  /** A signature, digest, canonicalization, transform or encryption algorithm outside the allow-list. */
  'algorithm_not_allowed',
  /** A SHA-1 signature or digest while the connector does not allow SHA-1. */
  'sha1_not_allowed',
  /** The IdP answered with a status other than Success. */
  'status_not_success',
  /** A signature the connector requires is absent. */
  'signature_missing',
  /** A signature does not verify with any configured IdP certificate (tampering, foreign key). */
  'signature_invalid',
  /** An encrypted assertion that no configured SP key decrypts, or that fails to decrypt. */
  'decryption_failed',
  /** No InResponseTo, and the connector does not accept IdP-initiated responses. */
  'unsolicited_response',
  /** InResponseTo names no request this Herald issued (or it expired). */
  'unknown_in_response_to',
  /** InResponseTo values of the Response and of the SubjectConfirmationData disagree. */
  'in_response_to_mismatch',
  /** The request was already answered, or the assertion ID was already used. */
  'replay',
  /** Assertion or Response Issuer is not the configured IdP. */
  'issuer_mismatch',
  /** Response Destination is not this connector's ACS URL. */
  'destination_mismatch',
  /** No bearer SubjectConfirmationData with this ACS as Recipient. */
  'recipient_mismatch',
  /** The SP entity ID is not in the AudienceRestriction. */
  'audience_mismatch',
  /** Conditions or SubjectConfirmationData NotOnOrAfter passed (with the clock skew), or too old. */
  'expired',
  /** Conditions or SubjectConfirmationData NotBefore not reached (with the clock skew). */
  'not_yet_valid',
  /** No usable bearer SubjectConfirmation. */
  'subject_confirmation_invalid',
  /** No NameID (EncryptedID is not supported), or the configured subject attribute is missing or ambiguous. */
  'subject_missing',
  /** No AuthnStatement (required by the Web Browser SSO profile). */
  'authn_statement_missing',
  /** Anything else node-saml refused. */
  'assertion_invalid',
] as const;

export type SamlRejectionReason = (typeof SAML_REJECTION_REASONS)[number];

export class SamlRejection extends Error {
  constructor(
    readonly reason: SamlRejectionReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SamlRejection';
  }

  toConnectorError(): ConnectorError {
    const kind: ConnectorErrorKind = this.reason === 'status_not_success' ? 'access_denied' : 'upstream_protocol';
    return new ConnectorError(kind, this.reason, this.message, { cause: this, event: 'saml.assertion_rejected' });
  }
}

export function reject(reason: SamlRejectionReason, message: string, cause?: unknown): never {
  throw new SamlRejection(reason, message, cause === undefined ? undefined : { cause });
}
