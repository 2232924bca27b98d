/**
 * Resource documents: reading POST/PUT bodies into the writable attributes of a resource type
 * (coerced, read-only attributes ignored as RFC 7644 §3.5.1 asks), whole-resource validation
 * (required attributes, one primary value), and projection of responses
 * (`attributes` / `excludedAttributes`, RFC 7644 §3.9).
 */
import { ScimError } from './scim.errors.js';
import { COMMON_ATTRIBUTES } from './schemas/common-attributes.js';
import {
  container,
  extensionUrn,
  findAttribute,
  resolveAttributePath,
  type AttributeDefinition,
  type ResourceType,
} from './scim-schema.js';
import { checkPrimary, coerceValue, isEmpty } from './scim-values.js';

type Doc = Record<string, any>;

function setAttribute(doc: Doc, extension: string | undefined, attr: AttributeDefinition, sub: AttributeDefinition | undefined, value: unknown, path: string): void {
  if (attr.mutability === 'readOnly' || attr.mutability === 'writeOnly') return; // id, meta, groups, links; password is accepted and not stored
  if (sub) {
    if (sub.mutability === 'readOnly' || sub.mutability === 'writeOnly') return;
    const coerced = coerceValue(sub, value, { path });
    if (coerced === undefined) return;
    const holder = container(doc, extension, true)!;
    const object = holder[attr.name] && typeof holder[attr.name] === 'object' && !Array.isArray(holder[attr.name]) ? holder[attr.name] : {};
    object[sub.name] = coerced;
    holder[attr.name] = object;
    return;
  }
  const coerced = coerceValue(attr, value, { path });
  if (coerced === undefined) return;
  container(doc, extension, true)![attr.name] = coerced;
}

/**
 * The writable attributes of a POST/PUT body. Unknown attributes and unknown schema URIs are
 * ignored (Entra and Okta send both); an extension object is recognised by its key even when
 * its URN is missing from `schemas`; flat `urn:…:attr` keys are folded into their extension.
 */
export function readResourceBody(rt: ResourceType, body: unknown): Doc {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ScimError.invalidSyntax('the request body must be a JSON object');
  const input = body as Record<string, unknown>;
  const schemas = input.schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === rt.core.id.toLowerCase())) {
    throw ScimError.invalidSyntax(`"schemas" must contain ${rt.core.id}`);
  }
  const doc: Doc = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'schemas' || value === undefined || value === null) continue;
    const urn = /^urn:/i.test(key) ? extensionUrn(rt, key) : undefined;
    if (urn) {
      if (typeof value !== 'object' || Array.isArray(value)) throw ScimError.invalidSyntax(`"${key}" must be an object`);
      const schema = rt.extensions.find((e) => e.id === urn)!;
      for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
        const attr = findAttribute(schema.attributes, name);
        if (attr) setAttribute(doc, urn, attr, undefined, inner, `${urn}:${attr.name}`);
      }
      continue;
    }
    const at = resolveAttributePath(rt, key);
    if (!at) continue;
    setAttribute(doc, at.extension, at.attr, at.sub, value, key);
  }
  return doc;
}

/** Required attributes present and non-empty; at most one primary value per list. */
export function validateResource(rt: ResourceType, doc: Doc): void {
  const check = (attrs: AttributeDefinition[], holder: Doc | undefined, prefix: string) => {
    for (const attr of attrs) {
      const value = holder?.[attr.name];
      if (attr.required && attr.mutability !== 'readOnly' && isEmpty(value)) throw ScimError.invalidValue(`"${prefix}${attr.name}" is required`);
      if (value !== undefined) checkPrimary(attr, value, `${prefix}${attr.name}`);
    }
  };
  check(rt.core.attributes, doc, '');
  for (const ext of rt.extensions) check(ext.attributes, container(doc, ext.id), `${ext.id}:`);
}

/** Drops empty extension objects left behind by PATCH. */
export function pruneEmpty(rt: ResourceType, doc: Doc): Doc {
  for (const ext of rt.extensions) if (doc[ext.id] !== undefined && isEmpty(doc[ext.id])) delete doc[ext.id];
  return doc;
}

/** A parsed `attributes` / `excludedAttributes` entry. */
interface Selector {
  extension?: string;
  /** undefined: the whole extension (`attributes=urn:…:enterprise:2.0:User`). */
  attr?: string;
  sub?: string;
}

export interface Projection {
  attributes?: Selector[];
  excluded?: Selector[];
}

export function parseAttributeList(rt: ResourceType, text: unknown): Selector[] | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' && !Array.isArray(text)) throw ScimError.invalidValue('attributes must be a comma-separated list');
  const items = (Array.isArray(text) ? text : [text]).flatMap((t) => String(t).split(','));
  const selectors: Selector[] = [];
  for (const raw of items.map((i) => i.trim()).filter(Boolean)) {
    const urn = extensionUrn(rt, raw);
    if (urn) {
      selectors.push({ extension: urn });
      continue;
    }
    const at = resolveAttributePath(rt, raw);
    // Unknown names select nothing (RFC 7644 is silent; clients ask for attributes of other schemas).
    if (at) selectors.push({ extension: at.extension, attr: at.attr.name, sub: at.sub?.name });
  }
  return selectors;
}

function selected(selectors: Selector[], extension: string | undefined, attr: string, sub?: string): 'all' | 'some' | 'none' {
  let result: 'all' | 'some' | 'none' = 'none';
  for (const s of selectors) {
    if (s.extension !== extension) continue;
    if (s.attr === undefined) return 'all';
    if (s.attr !== attr) continue;
    if (s.sub === undefined || s.sub === sub) return 'all';
    result = 'some';
  }
  return result;
}

/**
 * Applies `returned` characteristics and the request's projection to an outgoing document.
 * `schemas` and `returned: always` attributes (id) are always kept; `never` (password) never is.
 */
export function project(rt: ResourceType, doc: Doc, projection: Projection): Doc {
  const out: Doc = {};
  const include = projection.attributes && projection.attributes.length ? projection.attributes : undefined;
  const exclude = include ? undefined : projection.excluded;
  const keep = (extension: string | undefined, attr: AttributeDefinition, value: unknown): unknown => {
    if (attr.returned === 'never') return undefined;
    if (attr.returned === 'always') return value;
    if (include) {
      const sel = selected(include, extension, attr.name);
      if (sel === 'none') return undefined;
      if (sel === 'some' && attr.type === 'complex') return pickSubs(value, (sub) => selected(include, extension, attr.name, sub) === 'all');
      return value;
    }
    if (attr.returned === 'request') return undefined;
    if (exclude) {
      const sel = selected(exclude, extension, attr.name);
      if (sel === 'all') return undefined;
      if (sel === 'some' && attr.type === 'complex') return pickSubs(value, (sub) => selected(exclude, extension, attr.name, sub) !== 'all');
    }
    return value;
  };
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'schemas') {
      out.schemas = value;
      continue;
    }
    const ext = rt.extensions.find((e) => e.id === key);
    if (ext) {
      const inner: Doc = {};
      for (const [name, v] of Object.entries(value as Doc)) {
        const attr = findAttribute(ext.attributes, name);
        if (!attr) continue;
        const kept = keep(ext.id, attr, v);
        if (kept !== undefined && !isEmpty(kept)) inner[name] = kept;
      }
      if (Object.keys(inner).length) out[key] = inner;
      continue;
    }
    const attr = findAttribute(rt.core.attributes, key) ?? findAttribute(COMMON_ATTRIBUTES, key);
    if (!attr) continue;
    const kept = keep(undefined, attr, value);
    if (kept !== undefined && !isEmpty(kept)) out[key] = kept;
  }
  // `schemas` lists exactly the extensions that still have values in the response.
  if (Array.isArray(out.schemas)) out.schemas = [rt.core.id, ...rt.extensions.map((e) => e.id).filter((id) => out[id] !== undefined)];
  return out;
}

function pickSubs(value: unknown, want: (sub: string) => boolean): unknown {
  const pick = (object: unknown) => {
    if (!object || typeof object !== 'object') return object;
    const out: Doc = {};
    for (const [k, v] of Object.entries(object as Doc)) if (want(k)) out[k] = v;
    return Object.keys(out).length ? out : undefined;
  };
  if (Array.isArray(value)) {
    const list = value.map(pick).filter((v) => v !== undefined);
    return list.length ? list : undefined;
  }
  return pick(value);
}
