/**
 * Listing and searching (RFC 7644 §3.4.2–3.4.3): filter, sort, paging and projection over a
 * resource source. Filters are evaluated in memory over SCIM documents so that SQLite and
 * PostgreSQL behave identically; an exact index push-down (`id`, `userName`, `externalId`,
 * Group `displayName`) keeps the provisioning hot path (`userName eq "…"`) an indexed lookup.
 * Without a usable index the scan is bounded by `scim.maxScan` (400 tooMany beyond).
 */
import type { Filter } from 'scim2-parse-filter';
import { ScimError } from './scim.errors.js';
import { compileFilter, evaluate, indexHint, parseFilterText, sortKey, type CompiledFilter, type IndexHint } from './scim-filter.js';
import { parseAttributeList, project, type Projection } from './scim-resource.js';
import { MESSAGE_URNS, resolveAttributePath, type ResolvedAttribute, type ResourceType } from './scim-schema.js';

type Doc = Record<string, any>;

export interface ListQuery {
  filter?: { compiled: CompiledFilter; raw: Filter };
  sortBy?: ResolvedAttribute;
  descending: boolean;
  startIndex: number;
  count: number;
  projection: Projection;
}

export interface QueryLimits {
  maxResults: number;
  maxScan: number;
  maxFilterLength: number;
}

function integerParam(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value)) throw ScimError.invalidValue(`"${name}" must be given once`);
  const text = value;
  const n = typeof text === 'number' ? text : typeof text === 'string' && /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw ScimError.invalidValue(`"${name}" must be an integer`);
  return n;
}

function stringParam(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw ScimError.invalidValue(`"${name}" must be given once, as a string`);
  return value;
}

/** Reads list parameters from a query string (GET) or a SearchRequest body (POST .search). */
export function readListQuery(rt: ResourceType, params: Record<string, unknown>, limits: QueryLimits): ListQuery {
  const filterText = stringParam('filter', params.filter);
  let filter: ListQuery['filter'];
  if (filterText !== undefined && filterText.trim() !== '') {
    const raw = parseFilterText(filterText, limits.maxFilterLength);
    filter = { raw, compiled: compileFilter(rt, raw) };
  }
  const sortByText = stringParam('sortBy', params.sortBy);
  let sortBy: ResolvedAttribute | undefined;
  if (sortByText) {
    sortBy = resolveAttributePath(rt, sortByText);
    if (!sortBy) throw ScimError.invalidValue(`cannot sort by unknown attribute "${sortByText}"`);
  }
  const order = stringParam('sortOrder', params.sortOrder);
  if (order !== undefined && !/^(ascending|descending)$/i.test(order)) throw ScimError.invalidValue('sortOrder must be "ascending" or "descending"');
  // RFC 7644 §3.4.2.4: startIndex < 1 is 1, a negative count is 0; Herald caps count at maxResults.
  const startIndex = Math.max(1, integerParam('startIndex', params.startIndex) ?? 1);
  const count = Math.min(limits.maxResults, Math.max(0, integerParam('count', params.count) ?? limits.maxResults));
  return {
    filter,
    sortBy,
    descending: order?.toLowerCase() === 'descending',
    startIndex,
    count,
    projection: {
      attributes: parseAttributeList(rt, params.attributes),
      excluded: parseAttributeList(rt, params.excludedAttributes),
    },
  };
}

/** Where the list engine reads resources from (one implementation per resource type). */
export interface ResourceSource<Row> {
  byIndex(hint: IndexHint): Promise<Row[]>;
  count(): Promise<number>;
  page(offset: number, limit: number): Promise<Row[]>;
  all(): Promise<Row[]>;
  toDocuments(rows: Row[]): Promise<Doc[]>;
}

export interface ListResponse {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: Doc[];
}

function compareKeys(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export async function runList<Row>(rt: ResourceType, source: ResourceSource<Row>, query: ListQuery, limits: QueryLimits): Promise<ListResponse> {
  let total: number;
  let page: Doc[];
  if (!query.filter && !query.sortBy) {
    // The common listing (Okta imports): SQL paging in the stable default order, no scan.
    total = await source.count();
    page = await source.toDocuments(await source.page(query.startIndex - 1, query.count));
  } else {
    const hint = query.filter ? indexHint(rt, query.filter.compiled, query.filter.raw) : undefined;
    let rows: Row[];
    if (hint) rows = await source.byIndex(hint);
    else {
      const size = await source.count();
      if (size > limits.maxScan) {
        throw ScimError.tooMany(
          `this ${query.filter ? 'filter' : 'sort'} would examine ${size} resources (limit ${limits.maxScan}); add an eq condition on ${rt.name === 'User' ? 'id, userName or externalId' : 'id, displayName or externalId'}`,
        );
      }
      rows = await source.all();
    }
    let docs = await source.toDocuments(rows);
    if (query.filter) docs = docs.filter((doc) => evaluate(query.filter!.compiled, doc));
    if (query.sortBy) {
      const at = query.sortBy;
      const keyed = docs.map((doc, i) => ({ doc, i, key: sortKey(doc, at) }));
      keyed.sort((x, y) => {
        // Missing values sort last ascending and first descending (RFC 7644 §3.4.2.3).
        const xm = x.key === undefined;
        const ym = y.key === undefined;
        let c = xm && ym ? 0 : xm ? 1 : ym ? -1 : compareKeys(x.key, y.key);
        if (query.descending) c = -c;
        return c || x.i - y.i;
      });
      docs = keyed.map((k) => k.doc);
    }
    total = docs.length;
    page = docs.slice(query.startIndex - 1, query.startIndex - 1 + query.count);
  }
  const resources = page.map((doc) => project(rt, doc, query.projection));
  return { schemas: [MESSAGE_URNS.listResponse], totalResults: total, startIndex: query.startIndex, itemsPerPage: resources.length, Resources: resources };
}

// --- ETags (RFC 7644 §3.14): weak, from the integer version column.

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

function opaque(tag: string): string {
  return tag.trim().replace(/^W\//i, '');
}

/** Weak comparison of an If-Match / If-None-Match header with the current ETag. */
export function etagMatches(header: string | undefined, current: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const wanted = opaque(current);
  return header.split(',').some((tag) => opaque(tag) === wanted);
}

export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

/** Preconditions of a write: If-Match must name the current version, If-None-Match must not (412). */
export function checkPreconditions(p: Preconditions, version: number): void {
  const current = etagOf(version);
  if (p.ifMatch !== undefined && !etagMatches(p.ifMatch, current)) throw ScimError.preconditionFailed();
  if (p.ifNoneMatch !== undefined && etagMatches(p.ifNoneMatch, current)) throw ScimError.preconditionFailed('the resource matches If-None-Match');
}

export function hasPreconditions(p: Preconditions): boolean {
  return p.ifMatch !== undefined || p.ifNoneMatch !== undefined;
}
