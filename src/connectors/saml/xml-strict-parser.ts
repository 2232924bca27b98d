/**
 * Parses untrusted SAML XML, refusing everything a SAML message never needs and attackers love:
 * DTDs and entities (XXE, billion laughs), processing instructions, non-UTF-8 encodings,
 * comments (NameID comment injection), huge or deep trees, and duplicate ID values (xml-crypto
 * resolves references by any ID/Id/id attribute, so a duplicate is a wrapping attempt).
 *
 * xmldom never fetches or expands external entities, but it does accept an unused DOCTYPE; the
 * string-level refusal below comes first so no DTD ever reaches a parser.
 */
import { DOMParser, onWarningStopParsing, type Document, type Node } from '@xmldom/xmldom';
import { isElement } from './xml-dom.js';
import { reject } from './saml-rejection.js';

export interface XmlLimits {
  maxElements: number;
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxElements: 5_000, maxDepth: 40 };

const DTD_DECLARATION = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
const XML_DECLARATION = /^<\?xml\s[^?]*\?>/;

export function parseStrict(xml: string, options: { allowComments?: boolean; limits?: XmlLimits } = {}): Document {
  const limits = options.limits ?? DEFAULT_XML_LIMITS;
  if (DTD_DECLARATION.test(xml)) reject('dtd_forbidden', 'DTD declarations (DOCTYPE/ENTITY) are not allowed');
  let body = xml.replace(/^\uFEFF/, '');
  const declaration = XML_DECLARATION.exec(body);
  if (declaration) {
    const encoding = /encoding\s*=\s*["']([^"']+)["']/.exec(declaration[0]);
    if (encoding && encoding[1]!.toUpperCase() !== 'UTF-8') reject('malformed_xml', `encoding ${encoding[1]} is not allowed`);
    body = body.slice(declaration[0].length);
  }
  if (body.includes('<?')) reject('malformed_xml', 'processing instructions are not allowed');

  let doc: Document;
  try {
    doc = new DOMParser({ onError: onWarningStopParsing }).parseFromString(xml, 'text/xml');
  } catch (error) {
    return reject('malformed_xml', `not well-formed: ${String((error as Error).message).split('\n')[0]}`, error);
  }
  if (!doc.documentElement) reject('malformed_xml', 'no document element');

  const ids = new Set<string>();
  let count = 0;
  const stack: Array<[Node, number]> = [];
  for (let c = doc.firstChild; c; c = c.nextSibling) stack.push([c, 1]);
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node.nodeType === 8) {
      if (!options.allowComments) reject('xml_comment', 'XML comments are not allowed');
      continue;
    }
    // xmldom keeps the XML declaration as a processing instruction of the document; it was checked above.
    if (node.nodeType === 7 && !(node.parentNode === doc && node.nodeName === 'xml')) reject('malformed_xml', 'processing instructions are not allowed');
    if (node.nodeType === 10) reject('dtd_forbidden', 'DOCTYPE is not allowed');
    if (!isElement(node)) continue;
    if (++count > limits.maxElements) reject('malformed_xml', `more than ${limits.maxElements} elements`);
    if (depth > limits.maxDepth) reject('malformed_xml', `nested deeper than ${limits.maxDepth}`);
    for (let i = 0; i < node.attributes.length; i++) {
      const a = node.attributes.item(i)!;
      if (a.localName === 'ID' || a.localName === 'Id' || a.localName === 'id') {
        if (ids.has(a.value)) reject('signature_wrapping', `duplicate ID value "${a.value.slice(0, 80)}"`);
        ids.add(a.value);
      }
    }
    for (let c = node.lastChild; c; c = c.previousSibling) stack.push([c, depth + 1]);
  }
  return doc;
}
