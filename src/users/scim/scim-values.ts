/**
 * Values against attribute definitions: coercion on write (with the tolerances real provisioning
 * clients need: "True"/"False" strings, numeric strings, a string for a complex attribute with a
 * `value`, a scalar for a list), and comparison rules shared by filters, PATCH and sorting.
 */
import type { AttributeDefinition } from './scim-schema.js';
import { findAttribute } from './scim-schema.js';
import { ScimError } from './scim.errors.js';

/** RFC 3339 / xsd:dateTime as SCIM uses it (RFC 7643 §2.3.5). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0)
  );
}

export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const l = value.trim().toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
  }
  return undefined;
}

export interface CoerceOptions {
  /** Path for messages, e.g. `emails.value`. */
  path: string;
  /** Keep readOnly sub-attributes instead of dropping them (never for client input). */
  keepReadOnly?: boolean;
}

/** A single (non-list) value of `attr`. Returns undefined for "unassigned". */
function coerceSingle(attr: AttributeDefinition, value: unknown, options: CoerceOptions): unknown {
  if (value === null || value === undefined) return undefined;
  const bad = (why: string) => ScimError.invalidValue(`${options.path}: ${why}`);
  switch (attr.type) {
    case 'string':
    case 'reference':
    case 'binary': {
      let s: string;
      if (typeof value === 'string') s = value;
      else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
      else throw bad(`expected a ${attr.type}`);
      if (attr.canonicalValues && s !== '') {
        const ok = attr.canonicalValues.some((c) => (attr.caseExact ? c === s : c.toLowerCase() === s.toLowerCase()));
        if (!ok) throw bad(`expected one of ${attr.canonicalValues.join(', ')}`);
      }
      return s === '' ? undefined : s;
    }
    case 'boolean': {
      const b = parseBoolean(value);
      if (b === undefined) throw bad('expected a boolean');
      return b;
    }
    case 'integer': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) throw bad('expected an integer');
      return n;
    }
    case 'decimal': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n)) throw bad('expected a decimal number');
      return n;
    }
    case 'dateTime': {
      if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) throw bad('expected an RFC 3339 date-time');
      return value;
    }
    case 'complex': {
      let object = value;
      // Entra sends a bare id for `manager`: a string for a complex attribute with `value`.
      if (typeof object === 'string' && findAttribute(attr.subAttributes, 'value')) object = { value: object };
      if (typeof object !== 'object' || Array.isArray(object)) throw bad('expected an object');
      const out: Record<string, unknown> = {};
      for (const [key, raw] of Object.entries(object as Record<string, unknown>)) {
        const sub = findAttribute(attr.subAttributes, key);
        if (!sub) continue; // unknown sub-attributes are ignored (lenient, like unknown attributes)
        if (sub.mutability === 'readOnly' && !options.keepReadOnly) continue;
        if (sub.mutability === 'writeOnly') continue;
        const coerced = coerceValue(sub, raw, { ...options, path: `${options.path}.${sub.name}` });
        if (coerced !== undefined) out[sub.name] = coerced;
      }
      return Object.keys(out).length ? out : undefined;
    }
  }
}

/** Coerces a full value of `attr` (a list for multi-valued attributes). undefined = unassigned. */
export function coerceValue(attr: AttributeDefinition, value: unknown, options: CoerceOptions): unknown {
  if (value === null || value === undefined) return undefined;
  if (attr.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    for (const item of list) {
      if (Array.isArray(item)) throw ScimError.invalidValue(`${options.path}: nested lists are not allowed`);
      const coerced = coerceSingle(attr, item, options);
      if (coerced !== undefined && !out.some((existing) => sameElement(attr, existing, coerced))) out.push(coerced);
    }
    return out.length ? out : undefined;
  }
  if (Array.isArray(value)) {
    // Old Entra sends a one-element list for the single-valued `manager`.
    if (value.length === 0) return undefined;
    if (value.length > 1) throw ScimError.invalidValue(`${options.path}: expected a single value`);
    return coerceSingle(attr, value[0], options);
  }
  return coerceSingle(attr, value, options);
}

/** At most one `primary: true` per multi-valued complex attribute (RFC 7643 §2.4). */
export function checkPrimary(attr: AttributeDefinition, value: unknown, path: string): void {
  if (!attr.multiValued || attr.type !== 'complex' || !Array.isArray(value)) return;
  if (value.filter((v) => (v as Record<string, unknown>)?.primary === true).length > 1) {
    throw ScimError.invalidValue(`${path}: at most one value may be primary`);
  }
}

/** String comparison form: lower-cased unless the attribute is case-exact. */
export function normalizeString(attr: AttributeDefinition | undefined, value: string): string {
  return attr?.caseExact ? value : value.toLowerCase();
}

/** Equality of two coerced single values of `attr` (for complex: by `value` when it has one, else all sub-attributes). */
export function sameElement(attr: AttributeDefinition, a: unknown, b: unknown): boolean {
  if (attr.type === 'complex') {
    const valueAttr = findAttribute(attr.subAttributes, 'value');
    const ao = (a ?? {}) as Record<string, unknown>;
    const bo = (b ?? {}) as Record<string, unknown>;
    if (valueAttr && ao.value !== undefined && bo.value !== undefined) {
      // Two emails with the same address but different types are different values.
      const typeAttr = findAttribute(attr.subAttributes, 'type');
      const sameType = !typeAttr || ao.type === undefined || bo.type === undefined || scalarEquals(typeAttr, ao.type, bo.type);
      return scalarEquals(valueAttr, ao.value, bo.value) && sameType;
    }
    return deepEqual(a, b);
  }
  return scalarEquals(attr, a, b);
}

export function scalarEquals(attr: AttributeDefinition, a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    if (attr.type === 'dateTime') return Date.parse(a) === Date.parse(b);
    return normalizeString(attr, a) === normalizeString(attr, b);
  }
  return a === b;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => Object.hasOwn(b as object, k) && deepEqual((a as any)[k], (b as any)[k]));
}
