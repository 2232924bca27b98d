/**
 * Structural rules for XML signatures in inbound messages, checked before any cryptography:
 * every ds:Signature must be an enveloped signature that is a direct child of an element allowed
 * to carry one, with exactly one Reference pointing at that parent's ID, and every algorithm
 * anywhere in the tree must be allow-listed. Together with the single-assertion rule this shuts
 * the XML signature wrapping variants out before node-saml looks for "the" signed element.
 */
import type { Element } from '@xmldom/xmldom';
import { attr, child, children, descendants } from './xml-dom.js';
import { NS } from './xml-names.js';
import { reject } from './saml-rejection.js';
import { requireAllowed, type AlgorithmPolicy } from './algorithm-policy.js';

export interface FoundSignature {
  node: Element;
  /** The element the signature signs (its parent). */
  parent: Element;
  signatureAlgorithm: string;
  digestAlgorithm: string;
}

export function inspectSignatures(root: Element, allowedParents: Element[], algorithms: AlgorithmPolicy): Map<Element, FoundSignature> {
  const found = new Map<Element, FoundSignature>();
  for (const el of descendants(root)) {
    const local = el.localName;
    const algorithm = attr(el, 'Algorithm');
    if (local === 'SignatureMethod') requireAllowed(algorithm, algorithms.signature, 'signature algorithm');
    else if (local === 'CanonicalizationMethod') requireAllowed(algorithm, algorithms.canonicalization, 'canonicalization');
    else if (local === 'Transform') requireAllowed(algorithm, algorithms.transform, 'transform');
    else if (local === 'DigestMethod' && el.parentNode && (el.parentNode as Element).localName === 'Reference') requireAllowed(algorithm, algorithms.digest, 'digest');
    if (local !== 'Signature') continue;
    if (el.namespaceURI !== NS.ds) reject('signature_wrapping', 'a Signature element outside the XML-DSig namespace');
    const parent = el.parentNode as Element;
    if (!allowedParents.includes(parent)) reject('signature_wrapping', `a Signature inside <${parent.localName}>, where none is allowed`);
    if (found.has(parent)) reject('signature_wrapping', `more than one Signature on <${parent.localName}>`);
    const signedInfo = children(el, NS.ds, 'SignedInfo');
    if (signedInfo.length !== 1) reject('signature_wrapping', 'a Signature must have exactly one SignedInfo');
    const references = children(signedInfo[0], NS.ds, 'Reference');
    if (references.length !== 1) reject('signature_wrapping', 'a Signature must have exactly one Reference');
    const uri = attr(references[0], 'URI');
    const parentId = attr(parent, 'ID');
    if (!parentId || uri !== `#${parentId}`) reject('signature_wrapping', `the Signature on <${parent.localName}> does not reference its parent`);
    if (children(child(references[0]!, NS.ds, 'Transforms'), NS.ds, 'Transform').length > 2) reject('signature_wrapping', 'more than two transforms');
    found.set(parent, {
      node: el,
      parent,
      signatureAlgorithm: attr(child(signedInfo[0]!, NS.ds, 'SignatureMethod'), 'Algorithm') ?? '',
      digestAlgorithm: attr(child(references[0]!, NS.ds, 'DigestMethod'), 'Algorithm') ?? '',
    });
  }
  return found;
}
