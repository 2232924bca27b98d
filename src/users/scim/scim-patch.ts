/**
 * SCIM PATCH (RFC 7644 §3.5.2), applied to a copy of the resource document: operations run in
 * order (later ones see earlier effects), and the caller persists the result once, so a failing
 * operation leaves the stored resource untouched (atomicity). Mutability is checked against the
 * schema registry: readOnly targets are accepted only when they would not change anything
 * (Okta sends `{"id": …, "displayName": …}`), immutable ones only when unassigned.
 *
 * Client tolerances (see /work/notes/scim.md §1b): case-insensitive `op`; no-path values whose
 * keys are paths (`name.givenName`, `urn:…:User:employeeNumber`); `remove` with a `value` list
 * removes the listed values (Entra's member removal); a value filter that matches nothing
 * creates the element its `eq` terms describe (Entra's `phoneNumbers[type eq "mobile"].value`);
 * a value filter on a single-valued complex attribute (`manager[value eq …]`).
 */
import { ScimError } from './scim.errors.js';
import { matchesElement, seedFromFilter } from './scim-filter.js';
import { resolvePatchPath, type PatchTarget } from './scim-path.js';
import { container, extensionSchema, findAttribute, MESSAGE_URNS, type AttributeDefinition, type ResourceType } from './scim-schema.js';
import { coerceValue, deepEqual, isEmpty, parseBoolean, sameElement, scalarEquals } from './scim-values.js';

type Op = 'add' | 'replace' | 'remove';
type Doc = Record<string, any>;

export interface PatchOperation {
  op: Op;
  path?: string;
  value?: unknown;
  hasValue: boolean;
}

/** Validates the PatchOp envelope (400 invalidSyntax / invalidValue / noTarget). */
export function readPatchRequest(body: unknown): PatchOperation[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw ScimError.invalidSyntax('the request body must be a PatchOp JSON object');
  const b = body as Record<string, unknown>;
  const schemas = b.schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === MESSAGE_URNS.patchOp.toLowerCase())) {
    throw ScimError.invalidSyntax(`"schemas" must contain ${MESSAGE_URNS.patchOp}`);
  }
  const key = Object.keys(b).find((k) => k.toLowerCase() === 'operations');
  const operations = key ? b[key] : undefined;
  if (!Array.isArray(operations) || operations.length === 0) throw ScimError.invalidSyntax('"Operations" must be a non-empty array');
  return operations.map((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw ScimError.invalidSyntax(`Operations[${i}] must be an object`);
    const o = raw as Record<string, unknown>;
    const op = typeof o.op === 'string' ? o.op.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw ScimError.invalidSyntax(`Operations[${i}].op must be add, replace or remove`);
    if (o.path !== undefined && typeof o.path !== 'string') throw ScimError.invalidSyntax(`Operations[${i}].path must be a string`);
    const hasValue = Object.hasOwn(o, 'value');
    if (op !== 'remove' && !hasValue) throw ScimError.invalidValue(`Operations[${i}]: ${op} needs a "value"`);
    if (op === 'remove' && !o.path) throw ScimError.noTarget(`Operations[${i}]: remove needs a "path"`);
    return { op, path: o.path as string | undefined, value: o.value, hasValue };
  });
}

export interface PatchOptions {
  maxFilterLength: number;
}

/** Applies the operations to a clone of `doc`; returns the new document. */
export function applyPatch(rt: ResourceType, doc: Doc, operations: PatchOperation[], options: PatchOptions): Doc {
  const working = structuredClone(doc);
  const engine = new PatchEngine(rt, working, options);
  for (const operation of operations) engine.apply(operation);
  // Extension objects emptied by the operations are unassigned.
  for (const ext of rt.extensions) if (working[ext.id] !== undefined && isEmpty(working[ext.id])) delete working[ext.id];
  return working;
}

class PatchEngine {
  constructor(
    private readonly rt: ResourceType,
    private readonly doc: Doc,
    private readonly options: PatchOptions,
  ) {}

  apply(operation: PatchOperation): void {
    if (!operation.path) return this.applyNoPath(operation.op, operation.value);
    const target = resolvePatchPath(this.rt, operation.path, this.options.maxFilterLength);
    this.applyTarget(operation.op, target, operation.value, operation.hasValue);
  }

  /** add/replace without path: every key of the value is itself a path. */
  private applyNoPath(op: Op, value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ScimError.invalidValue(`${op} without a path needs an object value`);
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if (key.toLowerCase() === 'schemas') continue;
      let target: PatchTarget;
      try {
        target = resolvePatchPath(this.rt, key, this.options.maxFilterLength);
      } catch (error) {
        // Unknown attributes in a no-path value are ignored, as in POST/PUT bodies.
        if (error instanceof ScimError && error.scimType === 'invalidPath') continue;
        throw error;
      }
      this.applyTarget(op, target, inner, true);
    }
  }

  private applyTarget(op: Op, target: PatchTarget, value: unknown, hasValue: boolean): void {
    if (target.kind === 'extension') return this.applyExtension(op, target.extension, value);
    const { attr, sub } = target;
    const holder = container(this.doc, target.extension, op !== 'remove');
    const label = target.path;
    if (!holder) return; // remove inside an extension the resource does not have: nothing to do

    if (attr.mutability === 'writeOnly' || sub?.mutability === 'writeOnly') return; // e.g. password: accepted, not stored
    if (op === 'remove' && !target.filter && !sub && attr.required) throw ScimError.mutability(`"${attr.name}" is required and cannot be removed`);
    if (op === 'remove' && sub?.required && !target.filter) throw ScimError.mutability(`"${attr.name}.${sub.name}" is required and cannot be removed`);

    const readOnly = attr.mutability === 'readOnly' || sub?.mutability === 'readOnly';
    const immutable = attr.mutability === 'immutable' || (sub?.mutability === 'immutable' && !attr.multiValued);
    if (readOnly || immutable) {
      const before = structuredClone(holder?.[attr.name]);
      const after = this.probe(op, target, value, hasValue);
      if (deepEqual(before, after)) return;
      if (readOnly) throw ScimError.mutability(`"${label}" is read-only`);
      if (!isEmpty(before) && !(attr.multiValued && op === 'add')) throw ScimError.mutability(`"${label}" is immutable`);
    } else if (!sub && !attr.multiValued && attr.type === 'complex') {
      // The whole single-valued complex attribute (remove, replace, merge): its assigned immutable
      // sub-attributes must keep their values, as when they are targeted directly.
      const fixed = (attr.subAttributes ?? []).filter((s) => s.mutability === 'immutable' && !isEmpty(holder[attr.name]?.[s.name]));
      if (fixed.length) {
        const after = this.probe(op, target, value, hasValue) as Doc | undefined;
        const changed = fixed.find((s) => !deepEqual(holder[attr.name][s.name], after?.[s.name]));
        if (changed) throw ScimError.mutability(`"${label}.${changed.name}" is immutable`);
      }
    }
    this.mutate(op, target, value, hasValue, holder, label, false);
  }

  /** The value the target's attribute would have after the operation (applied to a copy). */
  private probe(op: Op, target: Extract<PatchTarget, { kind: 'attribute' }>, value: unknown, hasValue: boolean): unknown {
    const copy = structuredClone(this.doc);
    new PatchEngine(this.rt, copy, this.options).mutate(op, target, value, hasValue, container(copy, target.extension, true)!, target.path, true);
    return container(copy, target.extension)?.[target.attr.name];
  }

  /** The extension object as a whole: its keys are attributes; remove clears the writable ones. */
  private applyExtension(op: Op, urn: string, value: unknown): void {
    const schema = extensionSchema(this.rt, urn)!;
    if (op === 'remove') {
      const holder = container(this.doc, urn);
      if (!holder) return;
      for (const attr of schema.attributes) {
        if (attr.mutability === 'readOnly') continue;
        if (attr.required && holder[attr.name] !== undefined) throw ScimError.mutability(`"${urn}:${attr.name}" is required and cannot be removed`);
        // As for a direct remove: clearing an assigned immutable value would let a later add change it.
        const fixed = assignedImmutable(attr, holder[attr.name]);
        if (fixed) throw ScimError.mutability(`"${urn}:${fixed}" is immutable and cannot be removed`);
        delete holder[attr.name];
      }
      if (Object.keys(holder).length === 0) delete this.doc[urn];
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ScimError.invalidValue(`"${urn}" takes an object value`);
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      const attr = findAttribute(schema.attributes, key);
      if (!attr) continue;
      this.applyTarget(op, { kind: 'attribute', path: `${urn}:${attr.name}`, extension: urn, attr }, inner, true);
    }
  }

  private mutate(op: Op, target: Extract<PatchTarget, { kind: 'attribute' }>, value: unknown, hasValue: boolean, holder: Doc, label: string, trusted: boolean): void {
    const { attr, sub, filter } = target;
    const coerceOptions = { path: label, keepReadOnly: trusted };
    const beforePrimaries = primaries(holder[attr.name]);

    if (filter) this.mutateFiltered(op, target, value, holder, label, trusted);
    else if (sub) this.mutateSub(op, attr, sub, value, holder, label, trusted);
    else if (op === 'remove') {
      if (hasValue && attr.multiValued && value !== null) this.removeValues(attr, holder, value, label);
      else delete holder[attr.name];
    } else if (value === null) {
      if (op === 'replace') delete holder[attr.name];
    } else if (attr.multiValued) {
      const incoming = (coerceValue(attr, value, coerceOptions) as unknown[] | undefined) ?? [];
      if (op === 'replace') holder[attr.name] = incoming;
      else {
        const list = Array.isArray(holder[attr.name]) ? holder[attr.name] : [];
        for (const item of incoming) {
          const existing = list.findIndex((e: unknown) => sameElement(attr, e, item));
          if (existing < 0) list.push(item);
          else if (attr.type === 'complex') list[existing] = { ...list[existing], ...(item as object) };
        }
        holder[attr.name] = list;
      }
    } else if (attr.type === 'complex') {
      const incoming = coerceValue(attr, value, coerceOptions) as Doc | undefined;
      if (incoming) holder[attr.name] = { ...(holder[attr.name] ?? {}), ...incoming };
    } else {
      const incoming = coerceValue(attr, value, coerceOptions);
      if (incoming === undefined) delete holder[attr.name];
      else holder[attr.name] = incoming;
    }
    settle(attr, holder, beforePrimaries, label);
  }

  /** `name.givenName`, or `emails.value` (every element) on a list without filter. */
  private mutateSub(op: Op, attr: AttributeDefinition, sub: AttributeDefinition, value: unknown, holder: Doc, label: string, trusted: boolean): void {
    const coerced = op === 'remove' ? undefined : coerceValue(sub, value, { path: label, keepReadOnly: trusted });
    if (!attr.multiValued) {
      const object = { ...(holder[attr.name] ?? {}) };
      if (coerced === undefined) delete object[sub.name];
      else object[sub.name] = coerced;
      holder[attr.name] = object;
      return;
    }
    const list: Doc[] = Array.isArray(holder[attr.name]) ? holder[attr.name] : [];
    if (list.length === 0) {
      if (coerced !== undefined) holder[attr.name] = [{ [sub.name]: coerced }];
      return;
    }
    for (const element of list) {
      if (coerced === undefined) delete element[sub.name];
      else element[sub.name] = coerced;
    }
    holder[attr.name] = list;
  }

  /** `locations[value eq "NY"]`: a value filter over a list of primitives. */
  private mutateFilteredPrimitives(op: Op, target: Extract<PatchTarget, { kind: 'attribute' }>, value: unknown, holder: Doc, label: string): void {
    const { attr, filter } = target;
    const list: unknown[] = Array.isArray(holder[attr.name]) ? holder[attr.name] : [];
    const matched = new Set(list.filter((v) => matchesElement(filter!.compiled, { value: v })));
    if (op === 'remove') {
      holder[attr.name] = list.filter((v) => !matched.has(v));
      return;
    }
    const raw = value && typeof value === 'object' && !Array.isArray(value) ? (value as Doc).value : value;
    const coerced = coerceValue({ ...attr, multiValued: false }, raw, { path: label });
    if (matched.size === 0) {
      if (!seedFromFilter(filter!.compiled, filter!.raw)) throw ScimError.noTarget(`no value matches "${label}"`);
      if (coerced !== undefined) holder[attr.name] = [...list, coerced];
      return;
    }
    const next = list.flatMap((v) => (matched.has(v) ? (coerced === undefined ? [] : [coerced]) : [v]));
    holder[attr.name] = next.filter((v, i) => next.findIndex((w) => sameElement(attr, v, w)) === i);
  }

  private mutateFiltered(op: Op, target: Extract<PatchTarget, { kind: 'attribute' }>, value: unknown, holder: Doc, label: string, trusted: boolean): void {
    if (target.filter!.primitive) return this.mutateFilteredPrimitives(op, target, value, holder, label);
    const { attr, sub, filter } = target;
    const coerceOptions = { path: label, keepReadOnly: trusted };
    const single = !attr.multiValued;
    const elements: Doc[] = single ? (holder[attr.name] ? [holder[attr.name]] : []) : Array.isArray(holder[attr.name]) ? holder[attr.name] : [];
    const matched = elements.filter((element) => matchesElement(filter!.compiled, element));

    if (op === 'remove') {
      if (matched.length === 0) return; // idempotent: nothing to remove
      let remaining: Doc[];
      if (sub) {
        for (const element of matched) delete element[sub.name];
        remaining = elements.filter((e) => !isEmpty(e));
      } else remaining = elements.filter((e) => !matched.includes(e));
      if (single) holder[attr.name] = remaining[0];
      else holder[attr.name] = remaining;
      return;
    }

    if (matched.length === 0) {
      // RFC 7644 §3.5.2.3: replace on a missing target is an add. Create the element the filter describes.
      const seed = seedFromFilter(filter!.compiled, filter!.raw);
      if (!seed) throw ScimError.noTarget(`no value matches "${label}"`);
      let element: unknown;
      if (sub) element = { ...seed, [sub.name]: value };
      else if (value && typeof value === 'object' && !Array.isArray(value)) element = { ...seed, ...(value as object) };
      else throw ScimError.invalidValue(`"${label}" takes an object value`);
      const coerced = coerceValue({ ...attr, multiValued: false }, element, coerceOptions) as Doc;
      if (single) holder[attr.name] = coerced;
      else holder[attr.name] = [...elements, coerced];
      return;
    }

    for (const element of matched) {
      if (sub) {
        const coerced = coerceValue(sub, value, { ...coerceOptions, path: `${label}` });
        if (coerced === undefined) delete element[sub.name];
        else element[sub.name] = coerced;
      } else {
        const coerced = coerceValue({ ...attr, multiValued: false }, value, coerceOptions) as Doc | undefined;
        if (op === 'replace') {
          for (const key of Object.keys(element)) delete element[key];
        }
        Object.assign(element, coerced ?? {});
      }
    }
    const remaining = elements.filter((e) => !isEmpty(e));
    if (single) holder[attr.name] = remaining[0];
    else holder[attr.name] = remaining;
  }

  /** `remove` with a value list: drop the listed values (by `value` for complex attributes). */
  private removeValues(attr: AttributeDefinition, holder: Doc, value: unknown, label: string): void {
    const list: unknown[] = Array.isArray(holder[attr.name]) ? holder[attr.name] : [];
    const wanted = Array.isArray(value) ? value : [value];
    const valueAttr = attr.type === 'complex' ? findAttribute(attr.subAttributes, 'value') : undefined;
    if (attr.type === 'complex' && !valueAttr) throw ScimError.invalidValue(`"${label}": values of this attribute cannot be removed by value; use a value filter`);
    const keys = wanted.map((w) => (valueAttr ? (w && typeof w === 'object' ? (w as Doc).value : w) : w)).filter((k) => k !== undefined && k !== null);
    holder[attr.name] = list.filter((element) => {
      const own = valueAttr ? (element as Doc)?.value : element;
      return !keys.some((k) => scalarEquals(valueAttr ?? attr, own, k));
    });
  }
}

/**
 * The path (relative to the attribute's holder) of an immutable value the attribute holds: the
 * attribute itself, or an immutable sub-attribute of a single-valued complex attribute. (The
 * elements of a multi-valued attribute may come and go; their immutable parts only fix an element.)
 */
function assignedImmutable(attr: AttributeDefinition, value: unknown): string | undefined {
  if (isEmpty(value)) return undefined;
  if (attr.mutability === 'immutable') return attr.name;
  if (attr.type !== 'complex' || attr.multiValued) return undefined;
  const sub = (attr.subAttributes ?? []).find((s) => s.mutability === 'immutable' && !isEmpty((value as Doc)[s.name]));
  return sub ? `${attr.name}.${sub.name}` : undefined;
}

function primaries(value: unknown): Set<unknown> {
  return new Set(Array.isArray(value) ? value.filter((v) => (v as Doc)?.primary === true) : []);
}

/**
 * After an operation: empty lists and objects become unassigned, and a value newly marked
 * primary makes the others non-primary (RFC 7643 §2.4 allows one primary).
 */
function settle(attr: AttributeDefinition, holder: Doc, before: Set<unknown>, label: string): void {
  const value = holder[attr.name];
  if (isEmpty(value)) {
    delete holder[attr.name];
    return;
  }
  if (!Array.isArray(value) || attr.type !== 'complex') return;
  const now = value.filter((v) => parseBoolean((v as Doc)?.primary) === true);
  if (now.length <= 1) return;
  const fresh = now.filter((v) => !before.has(v));
  if (fresh.length !== 1) throw ScimError.invalidValue(`${label}: at most one value may be primary`);
  for (const v of now) if (v !== fresh[0]) (v as Doc).primary = false;
}
