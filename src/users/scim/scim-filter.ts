/**
 * SCIM filters (RFC 7644 §3.4.2.2): parsed by scim2-parse-filter, then resolved against the
 * schema registry and evaluated here. The library's own evaluator is not used: it knows no
 * schema (case-insensitive `userName`, correlated value filters, URN paths, dateTime ordering,
 * multi-valued "any" semantics) — see /work/notes/scim.md §1a.
 *
 * Rules Herald applies (RFC silent or client tolerance):
 * - `attr[filter].sub op value` (Entra) is rewritten to the correlated `attr[(filter) and sub op value]`;
 * - a complex attribute without sub-attribute compares its `value` (`emails co "x"`, `manager eq "id"`);
 * - multi-valued attributes match when any value matches (also for `ne`); an absent attribute
 *   matches only `ne` (so `ne x` ≡ `not (eq x)`), and `eq null` ≡ `not pr`;
 * - `pr` means present and non-empty; boolean comparison values may be the strings "True"/"False".
 */
import { parse, type Filter } from 'scim2-parse-filter';
import { ScimError } from './scim.errors.js';
import { container, elementAttribute, findAttribute, resolveAttributePath, type AttributeDefinition, type ResolvedAttribute, type ResourceType } from './scim-schema.js';
import { isEmpty, normalizeString, parseBoolean } from './scim-values.js';

type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';

export type CompiledFilter =
  | { kind: 'and' | 'or'; filters: CompiledFilter[] }
  | { kind: 'not'; filter: CompiledFilter }
  | { kind: 'compare'; op: CompareOp; target: Target; value: unknown }
  | { kind: 'present'; target: Target }
  | { kind: 'valuePath'; target: ResolvedAttribute; primitive: boolean; filter: CompiledFilter };

/** An attribute in a document (absolute) or a sub-attribute of one element (relative, inside `[]`). */
export type Target = { relative: false; at: ResolvedAttribute } | { relative: true; sub: AttributeDefinition };

/** Index of the first `ch` outside a double-quoted string, or -1. */
export function scanOutsideQuotes(text: string, ch: string, from = 0): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ch) return i;
  }
  return -1;
}

/**
 * `emails[type eq "work"].value eq "x"` (sent by Microsoft Entra, outside the RFC grammar) →
 * `emails[(type eq "work") and value eq "x"]`, so that both conditions apply to one element.
 */
export function rewriteSubAttributeAfterValuePath(filter: string): string {
  let out = '';
  let i = 0;
  while (i < filter.length) {
    const open = scanOutsideQuotes(filter, '[', i);
    if (open < 0) {
      out += filter.slice(i);
      break;
    }
    const close = scanOutsideQuotes(filter, ']', open + 1);
    if (close < 0) {
      out += filter.slice(i);
      break;
    }
    const m = /^\.([A-Za-z$][\w$-]*)(\s+pr\b|\s+(eq|ne|co|sw|ew|gt|ge|lt|le)\s+("(?:[^"\\]|\\.)*"|[^\s()\]]+))/i.exec(filter.slice(close + 1));
    if (!m) {
      out += filter.slice(i, close + 1);
      i = close + 1;
      continue;
    }
    out += `${filter.slice(i, open)}[(${filter.slice(open + 1, close)}) and ${m[1]}${m[2]}]`;
    i = close + 1 + m[0].length;
  }
  return out;
}

/**
 * Refuses what RFC 7644 filters never contain before the parser sees it: raw control characters
 * and an unterminated quoted string. The parser's tokenizer (`"(?:[^"\\]|\\.|\n)*"`) can match a
 * newline two ways and backtracks exponentially when the string does not close, so
 * `userName eq "` + 45 newlines would block the event loop for hours.
 */
export function checkFilterText(text: string): void {
  const control = /[\u0000-\u001f\u007f]/.exec(text);
  if (control) throw ScimError.invalidFilter(`the filter contains a control character (U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}) at position ${control.index}`);
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
  }
  if (quoted) throw ScimError.invalidFilter('the filter has an unterminated quoted string');
}

export function parseFilterText(text: string, maxLength: number): Filter {
  if (text.length > maxLength) throw ScimError.invalidFilter(`the filter is longer than ${maxLength} characters`);
  checkFilterText(text);
  try {
    return parse(rewriteSubAttributeAfterValuePath(text));
  } catch (error) {
    // The parser throws plain Errors (and RangeError on deep nesting); all mean "bad filter".
    throw ScimError.invalidFilter(`the filter could not be parsed: ${error instanceof Error ? error.message.slice(0, 200) : 'syntax error'}`);
  }
}

/** The definition whose type governs comparisons of a target (complex → its `value`). */
function comparedAttribute(target: Target, path: string): AttributeDefinition {
  const attr = target.relative ? target.sub : (target.at.sub ?? target.at.attr);
  if (attr.type !== 'complex') return attr;
  const value = findAttribute(attr.subAttributes, 'value');
  if (!value) throw ScimError.invalidFilter(`"${path}" is a complex attribute; compare one of its sub-attributes`);
  return value;
}

function checkComparison(op: CompareOp, attr: AttributeDefinition, value: unknown, path: string): unknown {
  const invalid = (why: string) => ScimError.invalidFilter(`"${path}" ${op}: ${why}`);
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') throw invalid('null can only be compared with eq or ne');
    return null;
  }
  if (value !== null && typeof value === 'object') throw invalid('expected a string, number, boolean or null');
  const ordering = op === 'gt' || op === 'ge' || op === 'lt' || op === 'le';
  const substring = op === 'co' || op === 'sw' || op === 'ew';
  switch (attr.type) {
    case 'boolean': {
      if (ordering || substring) throw invalid('boolean attributes support only eq, ne and pr');
      const b = parseBoolean(value);
      if (b === undefined) throw invalid('expected true or false');
      return b;
    }
    case 'binary':
      if (ordering || substring) throw invalid('binary attributes support only eq, ne and pr');
      return String(value);
    case 'integer':
    case 'decimal': {
      if (substring) throw invalid('numbers support no substring operators');
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw invalid('expected a number');
      return n;
    }
    case 'dateTime': {
      if (substring) throw invalid('dates support no substring operators');
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalid('expected a date-time string');
      return Date.parse(value);
    }
    default:
      if (typeof value !== 'string') throw invalid('expected a string');
      return normalizeString(attr, value);
  }
}

function resolveTarget(rt: ResourceType, path: string, relativeTo: ResolvedAttribute | undefined): Target {
  if (relativeTo) {
    const sub = findAttribute(relativeTo.attr.subAttributes, path);
    if (!sub) throw ScimError.invalidFilter(`unknown sub-attribute "${path}" of "${relativeTo.attr.name}"`);
    return { relative: true, sub };
  }
  const at = resolveAttributePath(rt, path);
  if (!at) throw ScimError.invalidFilter(`unknown attribute "${path}"`);
  if (at.attr.returned === 'never' || at.sub?.returned === 'never') throw ScimError.invalidFilter(`"${path}" cannot be filtered`);
  return { relative: false, at };
}

/** Resolves a parsed filter against a resource type; every error is a 400 invalidFilter. */
export function compileFilter(rt: ResourceType, ast: Filter, relativeTo?: ResolvedAttribute): CompiledFilter {
  switch (ast.op) {
    case 'and':
    case 'or':
      return { kind: ast.op, filters: (ast as { filters: Filter[] }).filters.map((f) => compileFilter(rt, f, relativeTo)) };
    case 'not':
      return { kind: 'not', filter: compileFilter(rt, (ast as { filter: Filter }).filter, relativeTo) };
    case '[]': {
      if (relativeTo) throw ScimError.invalidFilter('value filters cannot be nested');
      const { attrPath, valFilter } = ast as { attrPath: string; valFilter: Filter };
      const at = resolveAttributePath(rt, attrPath);
      const element = at && !at.sub ? elementAttribute(at.attr) : undefined;
      if (!at || !element) throw ScimError.invalidFilter(`"${attrPath}" is neither a complex attribute nor a list`);
      return { kind: 'valuePath', target: at, primitive: at.attr.type !== 'complex', filter: compileFilter(rt, valFilter, { ...at, attr: element }) };
    }
    case 'pr': {
      const attrPath = (ast as { attrPath: string }).attrPath;
      return { kind: 'present', target: resolveTarget(rt, attrPath, relativeTo) };
    }
    case 'eq':
    case 'ne':
    case 'co':
    case 'sw':
    case 'ew':
    case 'gt':
    case 'lt':
    case 'ge':
    case 'le': {
      const { attrPath, compValue } = ast as { attrPath: string; compValue: unknown };
      const target = resolveTarget(rt, attrPath, relativeTo);
      const attr = comparedAttribute(target, attrPath);
      return { kind: 'compare', op: ast.op, target, value: checkComparison(ast.op, attr, compValue, attrPath) };
    }
    default:
      throw ScimError.invalidFilter(`unknown operator "${String((ast as { op: unknown }).op)}"`);
  }
}

export function parseFilter(rt: ResourceType, text: string, maxLength: number): CompiledFilter {
  return compileFilter(rt, parseFilterText(text, maxLength));
}

/** The values a target designates in a document (flattened over lists; complex → `value`). */
function valuesOf(doc: Record<string, any>, target: Target): unknown[] {
  if (target.relative) {
    const v = doc?.[target.sub.name];
    return complexValues(target.sub, v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
  }
  const { at } = target;
  const holder = container(doc, at.extension);
  const raw = holder?.[at.attr.name];
  if (raw === undefined || raw === null) return [];
  const items: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (at.sub) {
    return items.map((item) => (item as Record<string, unknown> | null)?.[at.sub!.name]).filter((v) => v !== undefined && v !== null);
  }
  return complexValues(at.attr, items);
}

function complexValues(attr: AttributeDefinition, items: unknown[]): unknown[] {
  if (attr.type !== 'complex') return items;
  if (!findAttribute(attr.subAttributes, 'value')) return items;
  return items.map((item) => (item as Record<string, unknown> | null)?.value).filter((v) => v !== undefined && v !== null);
}

function comparable(attr: AttributeDefinition, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (attr.type === 'dateTime') return Date.parse(value);
  if (attr.type === 'integer' || attr.type === 'decimal') return Number(value);
  return normalizeString(attr, value);
}

function compareOne(op: CompareOp, attr: AttributeDefinition, actualRaw: unknown, expected: unknown): boolean {
  const actual = attr.type === 'boolean' ? parseBoolean(actualRaw) : comparable(attr, actualRaw);
  switch (op) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'co':
      return typeof actual === 'string' && actual.includes(expected as string);
    case 'sw':
      return typeof actual === 'string' && actual.startsWith(expected as string);
    case 'ew':
      return typeof actual === 'string' && actual.endsWith(expected as string);
    case 'gt':
      return typeof actual === typeof expected && (actual as number | string) > (expected as number | string);
    case 'ge':
      return typeof actual === typeof expected && (actual as number | string) >= (expected as number | string);
    case 'lt':
      return typeof actual === typeof expected && (actual as number | string) < (expected as number | string);
    case 'le':
      return typeof actual === typeof expected && (actual as number | string) <= (expected as number | string);
  }
}

export function evaluate(filter: CompiledFilter, doc: Record<string, any>): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.filters.every((f) => evaluate(f, doc));
    case 'or':
      return filter.filters.some((f) => evaluate(f, doc));
    case 'not':
      return !evaluate(filter.filter, doc);
    case 'present':
      return valuesOf(doc, filter.target).some((v) => !isEmpty(v));
    case 'compare': {
      const values = valuesOf(doc, filter.target);
      if (filter.value === null) {
        const present = values.some((v) => !isEmpty(v));
        return filter.op === 'eq' ? !present : present;
      }
      if (values.length === 0) return filter.op === 'ne';
      const attr = comparedAttribute(filter.target, '');
      return values.some((v) => compareOne(filter.op, attr, v, filter.value));
    }
    case 'valuePath': {
      const holder = container(doc, filter.target.extension);
      const raw = holder?.[filter.target.attr.name];
      if (raw === undefined || raw === null) return false;
      const elements = Array.isArray(raw) ? raw : [raw];
      if (filter.primitive) return elements.some((value) => evaluate(filter.filter, { value }));
      return elements.some((element) => element !== null && typeof element === 'object' && evaluate(filter.filter, element));
    }
  }
}

/** Evaluates a filter compiled relative to a complex attribute on one of its elements. */
export function matchesElement(filter: CompiledFilter, element: unknown): boolean {
  return element !== null && typeof element === 'object' && evaluate(filter, element as Record<string, any>);
}

/**
 * For a value filter made only of `eq` comparisons joined by `and`, the element those comparisons
 * describe (used by PATCH to create `phoneNumbers[type eq "mobile"].value` when nothing matches).
 */
export function seedFromFilter(filter: CompiledFilter, raw: Filter): Record<string, unknown> | undefined {
  const seed: Record<string, unknown> = {};
  const walk = (compiled: CompiledFilter, ast: Filter): boolean => {
    if (compiled.kind === 'and' && ast.op === 'and') return compiled.filters.every((f, i) => walk(f, (ast as { filters: Filter[] }).filters[i]!));
    if (compiled.kind === 'compare' && compiled.op === 'eq' && compiled.target.relative && ast.op === 'eq') {
      const value = (ast as { compValue: unknown }).compValue;
      if (value === null) return false;
      seed[compiled.target.sub.name] = compiled.target.sub.type === 'boolean' ? parseBoolean(value) : value;
      return true;
    }
    return false;
  };
  return walk(filter, raw) ? seed : undefined;
}

/** Indexed columns a filter can be narrowed by (a superset pre-filter; the filter is re-evaluated). */
export type IndexColumn = 'id' | 'userName' | 'externalId' | 'displayName';

export interface IndexHint {
  column: IndexColumn;
  values: string[];
}

function columnOf(rt: ResourceType, target: Target): IndexColumn | undefined {
  if (target.relative || target.at.extension || target.at.sub) return undefined;
  const name = target.at.attr.name;
  if (name === 'id' || name === 'externalId') return name;
  if (rt.name === 'User' && name === 'userName') return 'userName';
  if (rt.name === 'Group' && name === 'displayName') return 'displayName';
  return undefined;
}

export function indexHint(rt: ResourceType, filter: CompiledFilter, raw: Filter): IndexHint | undefined {
  if (filter.kind === 'compare' && filter.op === 'eq' && raw.op === 'eq') {
    const column = columnOf(rt, filter.target);
    const value = (raw as { compValue: unknown }).compValue;
    if (column && typeof value === 'string') return { column, values: [value] };
    return undefined;
  }
  const rawFilters = (raw as { filters?: Filter[] }).filters;
  if (filter.kind === 'and' && rawFilters) {
    for (let i = 0; i < filter.filters.length; i++) {
      const hint = indexHint(rt, filter.filters[i]!, rawFilters[i]!);
      if (hint) return hint;
    }
    return undefined;
  }
  if (filter.kind === 'or' && rawFilters) {
    const hints = filter.filters.map((f, i) => indexHint(rt, f, rawFilters[i]!));
    if (hints.some((h) => !h)) return undefined;
    const column = hints[0]!.column;
    if (hints.some((h) => h!.column !== column)) return undefined;
    return { column, values: [...new Set(hints.flatMap((h) => h!.values))] };
  }
  return undefined;
}

/** Sort key of a document for `sortBy` (RFC 7644 §3.4.2.3: lists sort by their primary value, else the first). */
export function sortKey(doc: Record<string, any>, at: ResolvedAttribute): unknown {
  const holder = container(doc, at.extension);
  let raw = holder?.[at.attr.name];
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) {
    raw = raw.find((v) => (v as Record<string, unknown>)?.primary === true) ?? raw[0];
    if (raw === undefined) return undefined;
  }
  let attr = at.attr;
  if (at.sub) {
    raw = (raw as Record<string, unknown>)?.[at.sub.name];
    attr = at.sub;
  } else if (attr.type === 'complex') {
    const valueAttr = findAttribute(attr.subAttributes, 'value');
    if (!valueAttr) return undefined;
    raw = (raw as Record<string, unknown>)?.value;
    attr = valueAttr;
  }
  if (raw === undefined || raw === null) return undefined;
  if (attr.type === 'boolean') return raw === true ? 1 : 0;
  return comparable(attr, raw);
}
