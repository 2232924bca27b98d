/** Small, namespace-exact DOM lookups over @xmldom/xmldom trees (no XPath, no surprises). */
import type { Element, Node } from '@xmldom/xmldom';

const ELEMENT_NODE = 1;

export function isElement(node: Node | null | undefined): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE;
}

/** Direct child elements, optionally filtered by namespace and local name. */
export function children(el: Element | null | undefined, ns?: string | null, local?: string): Element[] {
  const out: Element[] = [];
  for (let c = el?.firstChild ?? null; c; c = c.nextSibling) {
    if (isElement(c) && (local === undefined || c.localName === local) && (ns == null || c.namespaceURI === ns)) out.push(c);
  }
  return out;
}

export function child(el: Element | null | undefined, ns: string, local: string): Element | null {
  return children(el, ns, local)[0] ?? null;
}

export function attr(el: Element | null | undefined, name: string): string | null {
  return el && el.hasAttribute(name) ? el.getAttribute(name) : null;
}

/** Every element below (and including) `root`, in document order, without recursion. */
export function descendants(root: Element): Element[] {
  const out: Element[] = [];
  const stack: Node[] = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (isElement(n)) out.push(n);
    for (let c = n.lastChild; c; c = c.previousSibling) if (isElement(c)) stack.push(c);
  }
  return out;
}

export function text(el: Element | null | undefined): string | null {
  return el ? el.textContent : null;
}
