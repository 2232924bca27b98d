/**
 * PATCH paths (RFC 7644 §3.5.2: `PATH = attrPath / valuePath [subAttr]`). scim2-parse-filter
 * parses filters, not paths, so the path is split here and only the bracketed value filter is
 * handed to the parser. Structure errors are `invalidPath`, filter errors `invalidFilter`.
 */
import type { Filter } from 'scim2-parse-filter';
import { ScimError } from './scim.errors.js';
import { compileFilter, parseFilterText, scanOutsideQuotes, type CompiledFilter } from './scim-filter.js';
import { elementAttribute, extensionUrn, findAttribute, resolveAttributePath, type AttributeDefinition, type ResourceType } from './scim-schema.js';

export type PatchTarget =
  | {
      kind: 'attribute';
      path: string;
      /** Extension URN, or undefined for core/common attributes. */
      extension?: string;
      attr: AttributeDefinition;
      sub?: AttributeDefinition;
      filter?: { compiled: CompiledFilter; raw: Filter; primitive: boolean };
    }
  /** The whole extension object (`"path": "urn:…:enterprise:2.0:User"`). */
  | { kind: 'extension'; path: string; extension: string };

const NAME = /^[A-Za-z$][\w$-]*$/;

export function resolvePatchPath(rt: ResourceType, raw: string, maxFilterLength: number): PatchTarget {
  const path = raw.trim();
  if (!path) throw ScimError.invalidPath('empty path');
  const open = scanOutsideQuotes(path, '[');
  if (open < 0) {
    const urn = /^urn:/i.test(path) ? extensionUrn(rt, path) : undefined;
    if (urn) return { kind: 'extension', path, extension: urn };
    const at = resolveAttributePath(rt, path);
    if (!at) throw ScimError.invalidPath(`unknown or malformed attribute path "${path}"`);
    return { kind: 'attribute', path, extension: at.extension, attr: at.attr, sub: at.sub };
  }
  const close = scanOutsideQuotes(path, ']', open + 1);
  if (close < 0) throw ScimError.invalidPath('unbalanced "[" in path');
  const head = resolveAttributePath(rt, path.slice(0, open));
  if (!head || head.sub) throw ScimError.invalidPath(`unknown or malformed attribute path "${path.slice(0, open)}"`);
  const element = elementAttribute(head.attr);
  if (!element) throw ScimError.invalidPath(`"${head.attr.name}" is neither a complex attribute nor a list and takes no value filter`);
  const primitive = head.attr.type !== 'complex';
  const tail = path.slice(close + 1);
  let sub: AttributeDefinition | undefined;
  if (tail) {
    const m = /^\.(.+)$/.exec(tail);
    if (!m || !NAME.test(m[1]!)) throw ScimError.invalidPath(`unexpected "${tail}" after the value filter`);
    sub = findAttribute(element.subAttributes, m[1]!);
    if (!sub) throw ScimError.invalidPath(`unknown sub-attribute "${m[1]}" of "${head.attr.name}"`);
  }
  const rawFilter = parseFilterText(path.slice(open + 1, close), maxFilterLength);
  const compiled = compileFilter(rt, rawFilter, { ...head, attr: element });
  return {
    kind: 'attribute',
    path,
    extension: head.extension,
    attr: head.attr,
    // For a list of primitives, `[value eq "x"].value` is the element itself.
    sub: primitive ? undefined : sub,
    filter: { compiled, raw: rawFilter, primitive },
  };
}
