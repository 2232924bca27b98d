/**
 * Structural checks on an inbound samlp:Response, on the raw (unsigned) document. Nothing read
 * here is trusted identity data: it only decides whether the message is shaped like exactly one
 * SAML login response and may go on to signature verification.
 */
import type { Document, Element } from '@xmldom/xmldom';
import { attr, child, children, descendants } from './xml-dom.js';
import { NS, STATUS_SUCCESS } from './xml-names.js';
import { reject } from './saml-rejection.js';
import { parseStrict, type XmlLimits } from './xml-strict-parser.js';
import { inspectSignatures, type FoundSignature } from './signature-inspector.js';
import type { AlgorithmPolicy } from './algorithm-policy.js';

export interface InspectOptions {
  algorithms: AlgorithmPolicy;
  allowComments: boolean;
  limits?: XmlLimits;
}

export interface InspectedResponse {
  doc: Document;
  root: Element;
  destination: string | null;
  inResponseTo: string | null;
  issuer: string | null;
  responseSignature: FoundSignature | null;
  /** The assertion's signature; for an encrypted assertion only known after decryption. */
  assertionSignature: FoundSignature | null;
  encryptedAssertion: Element | null;
  signatures: FoundSignature[];
}

const isAssertion = (e: Element) => e.localName === 'Assertion' || e.localName === 'EncryptedAssertion';

/** `doc` comes from parseStrict. */
export function inspectResponse(doc: Document, options: Pick<InspectOptions, 'algorithms'>): InspectedResponse {
  const root = doc.documentElement!;
  if (root.localName !== 'Response' || root.namespaceURI !== NS.samlp) reject('unexpected_message', `the message is <${root.tagName}>, not a samlp:Response`);

  // Status first: no identity from a failed response, even with a (signed) assertion in it —
  // node-saml looks at Status only when there is no assertion.
  const status = child(root, NS.samlp, 'Status');
  const code = attr(child(status, NS.samlp, 'StatusCode'), 'Value');
  if (code !== STATUS_SUCCESS) {
    const nested = attr(child(child(status, NS.samlp, 'StatusCode'), NS.samlp, 'StatusCode'), 'Value');
    const message = child(status, NS.samlp, 'StatusMessage')?.textContent;
    // Unsigned text: logged as detail, never trusted or shown.
    reject('status_not_success', `IdP status ${code ?? '(none)'}${nested ? ` / ${nested}` : ''}${message ? `: ${message.slice(0, 200)}` : ''}`);
  }

  // Exactly one assertion anywhere (matched by local name, as node-saml's XPath does), and it must
  // be a direct child of the Response.
  const anywhere = descendants(root).filter(isAssertion);
  const direct = children(root).filter(isAssertion);
  if (direct.length !== 1 || anywhere.length !== 1) {
    if (anywhere.length === 0) reject('unexpected_message', 'the Response carries no assertion');
    reject('signature_wrapping', `expected exactly one assertion as a child of the Response, found ${direct.length} there and ${anywhere.length} in total`);
  }
  const assertion = direct[0]!;
  if (assertion.namespaceURI !== NS.saml) reject('signature_wrapping', 'the assertion is not in the SAML assertion namespace');
  const encrypted = assertion.localName === 'EncryptedAssertion';
  const found = inspectSignatures(root, encrypted ? [root] : [root, assertion], options.algorithms);

  return {
    doc,
    root,
    destination: attr(root, 'Destination'),
    inResponseTo: attr(root, 'InResponseTo'),
    issuer: child(root, NS.saml, 'Issuer')?.textContent ?? null,
    responseSignature: found.get(root) ?? null,
    assertionSignature: encrypted ? null : (found.get(assertion) ?? null),
    encryptedAssertion: encrypted ? assertion : null,
    signatures: [...found.values()],
  };
}

export interface InspectedAssertion {
  assertionSignature: FoundSignature | null;
}

/** The plaintext of a decrypted assertion gets the same rules; its only signature may be its own. */
export function inspectDecryptedAssertion(xml: string, options: InspectOptions): InspectedAssertion {
  const doc = parseStrict(xml, { allowComments: options.allowComments, limits: options.limits });
  const assertion = doc.documentElement!;
  if (assertion.localName !== 'Assertion' || assertion.namespaceURI !== NS.saml) reject('decryption_failed', 'the EncryptedAssertion does not contain a saml:Assertion');
  if (descendants(assertion).some((e) => e !== assertion && isAssertion(e))) reject('signature_wrapping', 'an assertion nested in the decrypted assertion');
  const found = inspectSignatures(assertion, [assertion], options.algorithms);
  return { assertionSignature: found.get(assertion) ?? null };
}
