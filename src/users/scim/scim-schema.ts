/**
 * The schema registry: attribute definitions (RFC 7643 §7) of the core User, the enterprise
 * extension, the config-declared Herald extension and the core Group. Everything SCIM does —
 * /Schemas, write validation, filters, sorting, PATCH paths, projection — resolves attribute
 * names here, case-insensitively (RFC 7644 §3.10), so the behaviours cannot drift apart.
 */
import { ENTERPRISE_URN, HERALD_EXTENSION_URN } from '../account-attributes.js';
import { CORE_USER_SCHEMA } from './schemas/core-user.schema.js';
import { ENTERPRISE_USER_SCHEMA } from './schemas/enterprise-user.schema.js';
import { GROUP_SCHEMA } from './schemas/group.schema.js';
import { COMMON_ATTRIBUTES } from './schemas/common-attributes.js';
import type { ExtensionAttributeConfig, ScimConfig } from './scim.config.js';

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';

export interface AttributeDefinition {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description?: string;
  required: boolean;
  caseExact?: boolean;
  canonicalValues?: string[];
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  referenceTypes?: string[];
  subAttributes?: AttributeDefinition[];
}

export interface SchemaDefinition {
  id: string;
  name: string;
  description: string;
  attributes: AttributeDefinition[];
}

export const CORE_USER_URN = CORE_USER_SCHEMA.id;
export const CORE_GROUP_URN = GROUP_SCHEMA.id;
export { ENTERPRISE_URN, HERALD_EXTENSION_URN };
/** The spelling account-attributes.ts once used; accepted on input as an alias of the Herald URN. */
export const HERALD_EXTENSION_URN_ALIAS = 'urn:herald:params:scim:schemas:extension:herald:2.0:User';

export const MESSAGE_URNS = {
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  searchRequest: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

/** The Herald-maintained, read-only list of upstream identities linked to the account. */
const LINKS_ATTRIBUTE: AttributeDefinition = {
  name: 'links',
  type: 'complex',
  multiValued: true,
  description: 'Upstream identities linked to this account (maintained by Herald at sign-in; read-only).',
  required: false,
  mutability: 'readOnly',
  returned: 'default',
  subAttributes: [
    { name: 'connector', type: 'string', multiValued: false, description: 'Id of the Herald connector.', required: false, caseExact: true, mutability: 'readOnly', returned: 'default', uniqueness: 'none' },
    { name: 'subject', type: 'string', multiValued: false, description: 'Subject of the identity at the upstream.', required: false, caseExact: true, mutability: 'readOnly', returned: 'default', uniqueness: 'none' },
    { name: 'created', type: 'dateTime', multiValued: false, description: 'When the link was made.', required: false, mutability: 'readOnly', returned: 'default', uniqueness: 'none' },
    { name: 'lastLogin', type: 'dateTime', multiValued: false, description: 'Last sign-in through this link.', required: false, mutability: 'readOnly', returned: 'default', uniqueness: 'none' },
  ],
};

function extensionAttribute(name: string, config: ExtensionAttributeConfig): AttributeDefinition {
  const spec = typeof config === 'string' ? { type: config } : config;
  const multi = spec.type.endsWith('[]');
  const type = spec.type.replace(/\[\]$/, '') as AttributeType;
  const full = typeof config === 'string' ? undefined : config;
  const def: AttributeDefinition = {
    name,
    type,
    multiValued: multi || (full?.multiValued ?? false),
    description: full?.description ?? `${name} (declared in config: ${spec.type})`,
    required: full?.required ?? false,
    mutability: full?.mutability ?? 'readWrite',
    returned: full?.returned ?? 'default',
    uniqueness: 'none',
  };
  if (type === 'string' || type === 'reference') def.caseExact = full?.caseExact ?? false;
  if (type === 'reference') def.referenceTypes = ['external'];
  if (full?.canonicalValues) def.canonicalValues = full.canonicalValues;
  return def;
}

export function heraldExtensionSchema(config: ScimConfig): SchemaDefinition {
  const declared = Object.entries(config.extension.attributes).map(([name, spec]) => extensionAttribute(name, spec));
  return {
    id: HERALD_EXTENSION_URN,
    name: 'HeraldUser',
    description: 'Herald account attributes declared in config (scim.extension.attributes), and the upstream links Herald maintains.',
    attributes: [...declared, LINKS_ATTRIBUTE],
  };
}

export type ResourceTypeName = 'User' | 'Group';

export interface ResourceType {
  name: ResourceTypeName;
  endpoint: string;
  description: string;
  core: SchemaDefinition;
  extensions: SchemaDefinition[];
}

/** Where an attribute lives in a resource document: the core (top level) or an extension object. */
export interface ResolvedAttribute {
  /** undefined: the core schema or a common attribute (top-level key); else the extension URN. */
  extension?: string;
  attr: AttributeDefinition;
  /** Sub-attribute of a complex attribute (`name.givenName`). */
  sub?: AttributeDefinition;
}

const lower = (s: string) => s.toLowerCase();

export class ScimSchemas {
  readonly user: ResourceType;
  readonly group: ResourceType;
  readonly all: SchemaDefinition[];

  constructor(config: ScimConfig) {
    this.user = {
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      core: CORE_USER_SCHEMA,
      extensions: [ENTERPRISE_USER_SCHEMA, heraldExtensionSchema(config)],
    };
    this.group = { name: 'Group', endpoint: '/Groups', description: 'Group', core: GROUP_SCHEMA, extensions: [] };
    this.all = [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, this.user.extensions[1]!, GROUP_SCHEMA];
  }

  resourceType(name: ResourceTypeName): ResourceType {
    return name === 'User' ? this.user : this.group;
  }

  schemaById(id: string): SchemaDefinition | undefined {
    return this.all.find((s) => lower(s.id) === lower(id));
  }
}

/**
 * The element shape a value filter tests. Complex attributes are their own; a multi-valued
 * primitive (`locations`, a `string[]`) is seen as elements `{ value }`, so that
 * `locations[value eq "NY"]` works as it does for `members[value eq "…"]`.
 */
export function elementAttribute(attr: AttributeDefinition): AttributeDefinition | undefined {
  if (attr.type === 'complex') return attr;
  if (!attr.multiValued) return undefined;
  return { ...attr, type: 'complex', subAttributes: [{ ...attr, name: 'value', multiValued: false }] };
}

export function findAttribute(list: AttributeDefinition[] | undefined, name: string): AttributeDefinition | undefined {
  const wanted = lower(name);
  return list?.find((a) => lower(a.name) === wanted);
}

/** The canonical URN of an extension of `rt` named (any case, Herald alias accepted) by `urn`. */
export function extensionUrn(rt: ResourceType, urn: string): string | undefined {
  const wanted = lower(urn) === lower(HERALD_EXTENSION_URN_ALIAS) ? lower(HERALD_EXTENSION_URN) : lower(urn);
  return rt.extensions.find((e) => lower(e.id) === wanted)?.id;
}

export function extensionSchema(rt: ResourceType, urn: string): SchemaDefinition | undefined {
  return rt.extensions.find((e) => e.id === urn);
}

/** Whether `text` starts with a schema URN (`urn:…:Name` followed by `:attr`). */
export function splitUrn(rt: ResourceType, path: string): { urn?: string; core?: boolean; rest: string } | undefined {
  const l = lower(path);
  const candidates: Array<{ id: string; core: boolean }> = [
    { id: rt.core.id, core: true },
    ...rt.extensions.map((e) => ({ id: e.id, core: false })),
    ...(rt.name === 'User' ? [{ id: HERALD_EXTENSION_URN_ALIAS, core: false }] : []),
  ];
  for (const { id, core } of candidates) {
    const prefix = `${lower(id)}:`;
    if (l.startsWith(prefix)) {
      return core ? { core: true, rest: path.slice(prefix.length) } : { urn: extensionUrn(rt, id), rest: path.slice(prefix.length) };
    }
  }
  return undefined;
}

/**
 * Resolves `[URN:]attr[.sub]` against a resource type: core and common attributes first, then an
 * unqualified name found in exactly one extension (Entra sends `manager`). Returns undefined when
 * the name is unknown or ambiguous.
 */
export function resolveAttributePath(rt: ResourceType, path: string): ResolvedAttribute | undefined {
  let rest = path;
  let scope: 'core' | 'any' | string = 'any';
  if (/^urn:/i.test(path)) {
    const split = splitUrn(rt, path);
    if (!split) return undefined;
    rest = split.rest;
    scope = split.core ? 'core' : split.urn!;
  }
  const parts = rest.split('.');
  if (parts.length > 2 || parts.some((p) => !p)) return undefined;
  const [name, subName] = parts as [string, string | undefined];
  const candidates: ResolvedAttribute[] = [];
  if (scope === 'core' || scope === 'any') {
    const attr = findAttribute(rt.core.attributes, name) ?? findAttribute(COMMON_ATTRIBUTES, name);
    if (attr) candidates.push({ attr });
  }
  if (scope !== 'core' && (scope !== 'any' || candidates.length === 0)) {
    const exts = scope === 'any' ? rt.extensions : rt.extensions.filter((e) => e.id === scope);
    const found = exts.flatMap((e) => {
      const attr = findAttribute(e.attributes, name);
      return attr ? [{ extension: e.id, attr }] : [];
    });
    if (scope === 'any' && found.length > 1) return undefined;
    candidates.push(...found);
  }
  const hit = candidates[0];
  if (!hit) return undefined;
  if (subName === undefined) return hit;
  if (hit.attr.type !== 'complex') return undefined;
  const sub = findAttribute(hit.attr.subAttributes, subName);
  return sub ? { ...hit, sub } : undefined;
}

/** The key an attribute has in a document: its canonical name. */
export function container(doc: Record<string, any>, extension: string | undefined, create = false): Record<string, any> | undefined {
  if (!extension) return doc;
  const existing = doc[extension];
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) return existing;
  if (!create) return undefined;
  doc[extension] = {};
  return doc[extension];
}
