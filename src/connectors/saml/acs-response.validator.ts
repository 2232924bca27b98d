/**
 * The assertion consumer service's checks, in order. node-saml does the protocol core (signature
 * verification with the configured certificates, decryption, InResponseTo against the request
 * store, Conditions times, Audience); Herald wraps it in three layers it lacks:
 *
 *  1. pre-checks on the raw message: size caps, strict XML (no DTD, no comments), one assertion,
 *     signature placement and algorithm allow-lists, Status, the signing policy, and "a signature
 *     that is present must verify" (node-saml ignores signatures it was not asked to require);
 *  2. post-checks on the *signed* assertion XML only: Issuer, Destination, bearer
 *     SubjectConfirmation (Recipient, times, InResponseTo), Audience, AuthnStatement;
 *  3. a replay guard on the assertion ID shared by all instances (node-saml accepts the same
 *     response twice when both deliveries run concurrently, and always when unsolicited).
 *
 * Every refusal is a SamlRejection naming the check. The interaction the response belongs to is
 * known as early as possible (from InResponseTo, else RelayState) so a refusal also ends that
 * sign-in with access_denied to the client.
 */
import { createHash } from 'node:crypto';
import type { Document } from '@xmldom/xmldom';
import type { ReplayGuard } from '../connector.js';
import { attr, descendants } from './xml-dom.js';
import { CM_BEARER, NAMEID_ENTITY, NS } from './xml-names.js';
import { SamlRejection, reject, type SamlRejectionReason } from './saml-rejection.js';
import { decodePostMessage } from './saml-message-decoder.js';
import { parseStrict } from './xml-strict-parser.js';
import { inspectDecryptedAssertion, inspectResponse } from './response-inspector.js';
import { decryptAssertion } from './assertion-decryptor.js';
import { orderCertsByKeyInfo, verifySignatures, type VerifiedSignature } from './signature-verifier.js';
import { samlInstant } from './saml-time.js';
import { readSignedAssertion, type SignedAssertion, type SubjectConfirmation } from './signed-assertion-reader.js';
import type { SamlRequestStore } from './saml-request-store.js';
import type { SamlServiceProvider } from './saml-service-provider.js';

export interface ValidatedResponse {
  /** The interaction the answered AuthnRequest was issued for; undefined for an IdP-initiated response. */
  interactionId: string | undefined;
  inResponseTo: string | null;
  assertion: SignedAssertion;
  signatures: VerifiedSignature[];
  /** Index of the SP decryption key that opened an encrypted assertion. */
  decryptedWithKey: number | null;
}

export type AcsOutcome = { ok: true; response: ValidatedResponse } | { ok: false; interactionId: string | undefined; rejection: SamlRejection };

export class AcsResponseValidator {
  constructor(
    private readonly sp: SamlServiceProvider,
    private readonly requests: SamlRequestStore,
    private readonly replay: ReplayGuard,
    private readonly now: () => number = Date.now,
  ) {}

  async validate(body: Record<string, unknown>): Promise<AcsOutcome> {
    const route: { interactionId?: string } = {};
    try {
      return { ok: true, response: await this.run(body, route) };
    } catch (error) {
      const rejection = error instanceof SamlRejection ? error : new SamlRejection('assertion_invalid', String(error), { cause: error });
      return { ok: false, interactionId: route.interactionId, rejection };
    }
  }

  private async run(body: Record<string, unknown>, route: { interactionId?: string }): Promise<ValidatedResponse> {
    const { sp } = this;
    // RelayState is Herald's request ID: it routes a refusal to its sign-in even when the XML is unreadable.
    if (typeof body.RelayState === 'string') {
      const pending = await this.requests.lookup(body.RelayState);
      if (pending?.kind === 'authn') route.interactionId = pending.interactionId;
    }
    const xml = decodePostMessage(body.SAMLResponse, sp.limits);
    const doc = parseStrict(xml, { allowComments: sp.config.allowXmlComments });

    const root = doc.documentElement!;
    if (root.localName !== 'Response' || root.namespaceURI !== NS.samlp) reject('unexpected_message', `the message is <${root.tagName}>, not a samlp:Response`);
    const inResponseTo = attr(root, 'InResponseTo');
    if (inResponseTo !== null) {
      const pending = await this.requests.lookup(inResponseTo);
      if (pending?.kind !== 'authn') reject('unknown_in_response_to', 'InResponseTo names no AuthnRequest this Herald issued (or it expired)');
      route.interactionId = pending.interactionId;
      if (pending.answered) reject('replay', 'the AuthnRequest was already answered');
    } else {
      if (!sp.config.allowUnsolicited) reject('unsolicited_response', 'IdP-initiated (unsolicited) responses are not accepted by this connector');
      route.interactionId = undefined; // an IdP-initiated response belongs to no sign-in (RelayState is unsigned)
    }

    const idp = this.idpSettings();
    const inspected = inspectResponse(doc, { algorithms: sp.algorithms });
    let plaintext: string | undefined;
    let decryptedWithKey: number | null = null;
    let assertionSignature = inspected.assertionSignature;
    if (inspected.encryptedAssertion) {
      const decrypted = await decryptAssertion(inspected.encryptedAssertion, sp.decryption.map((k) => k.key), sp.algorithms);
      plaintext = decrypted.plaintext;
      decryptedWithKey = decrypted.keyIndex;
      assertionSignature = inspectDecryptedAssertion(plaintext, { algorithms: sp.algorithms, allowComments: sp.config.allowXmlComments }).assertionSignature;
    }

    // The signing policy, decided on structure first (node-saml enforces the same on verified signatures).
    if (sp.wants.response && !inspected.responseSignature) reject('signature_missing', 'the Response must be signed');
    if (sp.wants.assertion && !assertionSignature) reject('signature_missing', 'the Assertion must be signed');
    if (!inspected.responseSignature && !assertionSignature) reject('signature_missing', 'neither the Response nor the Assertion is signed');

    // Every present signature must verify against the configured certificates.
    const { certs } = orderCertsByKeyInfo([...inspected.signatures, ...(assertionSignature ? [assertionSignature] : [])], idp.certificates);
    const signatures = [
      ...verifySignatures(xml, inspected.signatures, certs),
      ...(plaintext && assertionSignature ? verifySignatures(plaintext, [assertionSignature], certs) : []),
    ];

    const saml = sp.saml({
      cacheProvider: this.requests.cacheProvider({ kind: 'authn', interactionId: route.interactionId }),
      decryptionKey: decryptedWithKey === null ? undefined : sp.decryption[decryptedWithKey]!.key,
      certificates: certs,
    });
    let canonicalAssertion: string;
    try {
      const result = await saml.validatePostResponseAsync({ SAMLResponse: body.SAMLResponse as string });
      if (!result.profile) reject('unexpected_message', 'not a login response');
      canonicalAssertion = result.profile.getAssertionXml!();
    } catch (error) {
      if (error instanceof SamlRejection) throw error;
      const reason = await this.classify(error as Error, inResponseTo, plaintext ?? doc);
      return reject(reason, `node-saml: ${(error as Error).message}`, error);
    }

    // From here on only the signed assertion is read.
    const assertion = readSignedAssertion(canonicalAssertion);
    const now = this.now();
    const skew = sp.clockSkewMs;

    if (assertion.issuer !== idp.entityId) reject('issuer_mismatch', `assertion Issuer "${assertion.issuer}" is not the configured IdP`);
    if (assertion.issuerFormat && assertion.issuerFormat !== NAMEID_ENTITY) reject('issuer_mismatch', 'assertion Issuer format is not entity');
    if (inspected.issuer !== null && inspected.issuer.trim() !== idp.entityId) reject('issuer_mismatch', `Response Issuer "${inspected.issuer}" is not the configured IdP`);

    // Required when the Response is signed (SAML bindings §3.5.5.2); compared with config, never the Host header.
    if (inspected.destination !== null ? inspected.destination !== sp.endpoints.acsUrl : !!inspected.responseSignature) {
      reject('destination_mismatch', `Response Destination "${inspected.destination}" is not this ACS`);
    }

    if (!assertion.nameId && !sp.config.subjectAttribute) reject('subject_missing', assertion.hasEncryptedId ? 'EncryptedID is not supported' : 'the assertion has no NameID');
    const bearer = this.checkBearer(assertion.subjectConfirmations, inResponseTo, now);

    const { notBefore, notOnOrAfter } = assertion.conditions;
    if (notOnOrAfter && now - skew >= samlInstant(notOnOrAfter, 'Conditions NotOnOrAfter')) reject('expired', 'Conditions NotOnOrAfter has passed');
    if (notBefore && now + skew < samlInstant(notBefore, 'Conditions NotBefore')) reject('not_yet_valid', 'Conditions NotBefore is in the future');
    if (!assertion.audiences.includes(sp.endpoints.entityId)) reject('audience_mismatch', 'this SP is not in the AudienceRestriction');
    if (!assertion.authn) reject('authn_statement_missing', 'the assertion has no AuthnStatement');
    if (assertion.hasEncryptedAttributes) reject('assertion_invalid', 'EncryptedAttribute is not supported');

    // Replay: the assertion ID (signed), kept until the latest moment it could still be accepted.
    if (!assertion.id) reject('assertion_invalid', 'the assertion has no ID');
    const keepUntil = Math.max(...[notOnOrAfter, bearer.notOnOrAfter].filter((t): t is string => !!t).map((t) => samlInstant(t, 'NotOnOrAfter'))) + skew;
    const key = `saml-assertion:${createHash('sha256').update(`${assertion.issuer}\u0000${assertion.id}`).digest('base64url')}`;
    if (!(await this.replay(key, keepUntil))) reject('replay', `assertion ${assertion.id.slice(0, 80)} was already used`);

    return { interactionId: route.interactionId, inResponseTo, assertion, signatures, decryptedWithKey };
  }

  private idpSettings() {
    try {
      return this.sp.idp();
    } catch (error) {
      return reject('assertion_invalid', `the IdP settings are unavailable: ${(error as Error).message}`, error);
    }
  }

  /**
   * At least one bearer SubjectConfirmation must name this ACS as Recipient, be within its times
   * and carry the Response's InResponseTo (none for an unsolicited response). node-saml checks
   * these times only in its InResponseTo branch and never checks Recipient.
   */
  private checkBearer(confirmations: SubjectConfirmation[], inResponseTo: string | null, now: number): SubjectConfirmation {
    const skew = this.sp.clockSkewMs;
    const bearer = confirmations.filter((c) => c.method === CM_BEARER);
    if (!bearer.length) reject('subject_confirmation_invalid', 'no bearer SubjectConfirmation');
    let first: [SamlRejectionReason, string] | undefined;
    for (const c of bearer) {
      let problem: [SamlRejectionReason, string] | undefined;
      if (c.recipient !== this.sp.endpoints.acsUrl) problem = ['recipient_mismatch', `SubjectConfirmationData Recipient "${c.recipient}" is not this ACS`];
      else if (!c.notOnOrAfter) problem = ['subject_confirmation_invalid', 'SubjectConfirmationData has no NotOnOrAfter'];
      else if (now - skew >= samlInstant(c.notOnOrAfter, 'SubjectConfirmationData NotOnOrAfter')) problem = ['expired', 'SubjectConfirmationData NotOnOrAfter has passed'];
      else if (c.notBefore && now + skew < samlInstant(c.notBefore, 'SubjectConfirmationData NotBefore')) problem = ['not_yet_valid', 'SubjectConfirmationData NotBefore is in the future'];
      else if ((c.inResponseTo ?? null) !== inResponseTo) problem = ['in_response_to_mismatch', 'SubjectConfirmationData InResponseTo differs from the Response\'s'];
      if (!problem) return c;
      first ??= problem;
    }
    return reject(first![0], first![1]);
  }

  /** Names the check behind a node-saml error (its messages are not a stable API, hence the fallback). */
  private async classify(error: Error, inResponseTo: string | null, doc: Document | string): Promise<SamlRejectionReason> {
    const message = error.message;
    if (/InResponseTo is not valid/.test(message)) return (await this.requests.lookup(inResponseTo))?.answered ? 'replay' : 'unknown_in_response_to';
    if (/InResponseTo is missing/.test(message)) return 'unsolicited_response';
    if (/InResponseTo does not match|SubjectInResponseTo/.test(message)) return 'in_response_to_mismatch';
    if (/multiple assertions|Referenced node|refer to more than one|too many/i.test(message)) return 'signature_wrapping';
    if (/signature/i.test(message)) return 'signature_invalid';
    if (/not yet valid/.test(message)) return 'not_yet_valid';
    if (/expired|too old/.test(message)) return 'expired';
    if (/audience|AudienceRestriction/i.test(message)) return 'audience_mismatch';
    if (/decrypt|EncryptedAssertion/i.test(message)) return 'decryption_failed';
    if (/No valid subject confirmation/.test(message)) {
      // node-saml found no SubjectConfirmationData within its times: say which way (label only; it is refused either way).
      const root = typeof doc === 'string' ? parseStrict(doc, { allowComments: true }).documentElement! : doc.documentElement!;
      const now = this.now();
      const future = descendants(root)
        .filter((e) => e.localName === 'SubjectConfirmationData')
        .some((e) => {
          const nb = attr(e, 'NotBefore');
          return nb !== null && now + this.sp.clockSkewMs < Date.parse(nb);
        });
      return future ? 'not_yet_valid' : 'expired';
    }
    return 'assertion_invalid';
  }
}

