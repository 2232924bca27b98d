/**
 * SCIM Users over Herald accounts. A User document is built from the account row (indexed
 * columns + `core`/`enterprise`/`custom` JSON), its upstream links (read-only `links` of the
 * Herald extension) and its group memberships (read-only `groups`). Writes are computed on a
 * copy, validated as a whole, and stored once with a version check (`UPDATE … WHERE version = ?`),
 * which gives both PATCH atomicity and If-Match semantics.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AuditService } from '../../audit/audit.service.js';
import { UserEntity } from '../user.entity.js';
import type { UserLinkEntity } from '../user-link.entity.js';
import type { UsersRepository } from '../users.repository.js';
import type { GroupsRepository } from '../groups.repository.js';
import type { GroupEntity } from '../group.entity.js';
import type { PrivacyService } from '../privacy.service.js';
import { ScimError } from './scim.errors.js';
import { CORE_USER_URN, ENTERPRISE_URN, HERALD_EXTENSION_URN, type ScimSchemas } from './scim-schema.js';
import { pruneEmpty, readResourceBody, validateResource } from './scim-resource.js';
import { applyPatch, readPatchRequest } from './scim-patch.js';
import { checkPreconditions, etagOf, hasPreconditions, type Preconditions, readListQuery, runList, type ListResponse, type QueryLimits, type ResourceSource } from './scim-query.js';
import type { IndexHint } from './scim-filter.js';
import { deepEqual } from './scim-values.js';

type Doc = Record<string, any>;

export interface ScimCaller {
  clientId: string;
}

export interface ScimSettings extends QueryLimits {
  /** Base URL of the SCIM API, e.g. https://id.example.com/scim/v2 */
  baseUrl: string;
  emailsVerified: boolean;
}

/** Top-level keys that are not stored in `core`. */
const NOT_CORE = new Set(['schemas', 'id', 'externalId', 'userName', 'active', 'meta', 'groups', 'password']);
const MAX_WRITE_ATTEMPTS = 3;

export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string }; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed/i.test(e?.message ?? '');
}

const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/** The stored fields a document maps to. */
interface UserFields {
  userName: string;
  userNameLower: string;
  externalId: string | null;
  active: boolean;
  email: string | null;
  emailVerified: boolean;
  core: Record<string, any>;
  enterprise: Record<string, any>;
  custom: Record<string, any>;
}

export class ScimUsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly groups: GroupsRepository,
    private readonly privacy: PrivacyService,
    private readonly audit: AuditService,
    private readonly schemas: ScimSchemas,
    private readonly settings: ScimSettings,
  ) {}

  private get rt() {
    return this.schemas.user;
  }

  location(id: string): string {
    return `${this.settings.baseUrl}/Users/${id}`;
  }

  toDocument(row: UserEntity, links: UserLinkEntity[], groups: GroupEntity[]): Doc {
    const doc: Doc = { schemas: [CORE_USER_URN], id: row.id };
    if (row.externalId) doc.externalId = row.externalId;
    doc.userName = row.userName;
    for (const [key, value] of Object.entries(row.core ?? {})) if (!NOT_CORE.has(key) && !key.startsWith('urn:')) doc[key] = value;
    doc.active = row.active;
    if (groups.length) {
      doc.groups = groups.map((g) => ({ value: g.id, $ref: `${this.settings.baseUrl}/Groups/${g.id}`, display: g.displayName, type: 'direct' }));
    }
    if (row.enterprise && Object.keys(row.enterprise).length) doc[ENTERPRISE_URN] = structuredClone(row.enterprise);
    const herald: Doc = structuredClone(row.custom ?? {});
    if (links.length) {
      herald.links = links.map((l) => ({ connector: l.connectorId, subject: l.upstreamSubject, created: iso(l.createdAt), lastLogin: iso(l.lastLoginAt) }));
    }
    if (Object.keys(herald).length) doc[HERALD_EXTENSION_URN] = herald;
    doc.schemas = [CORE_USER_URN, ...[ENTERPRISE_URN, HERALD_EXTENSION_URN].filter((urn) => doc[urn] !== undefined)];
    doc.meta = { resourceType: 'User', created: iso(row.createdAt), lastModified: iso(row.updatedAt), location: this.location(row.id), version: etagOf(row.version) };
    return doc;
  }

  async toDocuments(rows: UserEntity[]): Promise<Doc[]> {
    const ids = rows.map((r) => r.id);
    const links = await this.users.linksOfUsers(ids);
    const memberships = await this.groups.groupsOf(ids);
    return rows.map((row) =>
      this.toDocument(
        row,
        links.filter((l) => l.userId === row.id),
        memberships.filter((m) => m.memberId === row.id).map((m) => m.group),
      ),
    );
  }

  private fieldsOf(doc: Doc): UserFields {
    const core: Doc = {};
    for (const [key, value] of Object.entries(doc)) if (!NOT_CORE.has(key) && !key.startsWith('urn:')) core[key] = value;
    const custom: Doc = { ...(doc[HERALD_EXTENSION_URN] ?? {}) };
    delete custom.links;
    const emails: Doc[] = Array.isArray(core.emails) ? core.emails : [];
    const primary = (emails.find((e) => e.primary === true) ?? emails[0])?.value;
    const email = typeof primary === 'string' ? primary.toLowerCase() : null;
    return {
      userName: doc.userName,
      userNameLower: String(doc.userName).toLowerCase(),
      externalId: doc.externalId ?? null,
      active: doc.active ?? true,
      email,
      emailVerified: email !== null && this.settings.emailsVerified,
      core,
      enterprise: doc[ENTERPRISE_URN] ?? {},
      custom,
    };
  }

  private sameFields(row: UserEntity, fields: UserFields): boolean {
    return (
      row.userName === fields.userName &&
      row.externalId === fields.externalId &&
      row.active === fields.active &&
      deepEqual(row.core ?? {}, fields.core) &&
      deepEqual(row.enterprise ?? {}, fields.enterprise) &&
      deepEqual(row.custom ?? {}, fields.custom)
    );
  }

  private async load(id: string): Promise<UserEntity> {
    const row = await this.users.findRowById(id);
    if (!row) throw ScimError.notFound(`User ${id} not found`);
    return row;
  }

  async get(id: string): Promise<Doc> {
    const [doc] = await this.toDocuments([await this.load(id)]);
    return doc!;
  }

  async list(params: Record<string, unknown>): Promise<ListResponse> {
    const query = readListQuery(this.rt, params, this.settings);
    const source: ResourceSource<UserEntity> = {
      byIndex: (hint: IndexHint) => this.users.findRowsBy(hint.column as 'id' | 'userName' | 'externalId', hint.values),
      count: () => this.users.countRows(),
      page: (offset, limit) => this.users.pageRows(offset, limit),
      all: () => this.users.allRows(),
      toDocuments: (rows) => this.toDocuments(rows),
    };
    return runList(this.rt, source, query, this.settings);
  }

  async create(body: unknown, caller: ScimCaller): Promise<Doc> {
    const input = pruneEmpty(this.rt, readResourceBody(this.rt, body));
    validateResource(this.rt, input);
    const fields = this.fieldsOf(input);
    const now = Date.now();
    const row = Object.assign(new UserEntity(), { id: randomUUID(), ...fields, managedBy: 'scim', version: 1, createdAt: now, updatedAt: now });
    try {
      await this.dataSource.transaction(async (m) => {
        if (await this.users.userNameTaken(fields.userName, undefined, m)) throw ScimError.uniqueness(`userName "${fields.userName}" is already in use`);
        await this.users.insertRow(row, m);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ScimError.uniqueness(`userName "${fields.userName}" is already in use`);
      throw error;
    }
    this.audit.emit({ type: 'user.created', userId: row.id, clientId: caller.clientId, data: { via: 'scim' } });
    return this.toDocument(row, [], []);
  }

  /**
   * Read–modify–write with the version as the guard. With If-Match, a concurrent change is a
   * 412; without, the change is recomputed on the fresh row (a few attempts).
   */
  private async modify(id: string, preconditions: Preconditions, caller: ScimCaller, change: (row: UserEntity, doc: Doc) => Doc): Promise<Doc> {
    for (let attempt = 1; ; attempt++) {
      const row = await this.load(id);
      checkPreconditions(preconditions, row.version);
      const [current] = await this.toDocuments([row]);
      const next = pruneEmpty(this.rt, change(row, current!));
      validateResource(this.rt, next);
      const fields = this.fieldsOf(next);
      // No change: no new version, no new lastModified (RFC 7644 §3.5.2).
      if (this.sameFields(row, fields)) return current!;
      const updated = Object.assign(new UserEntity(), { ...row, ...fields, managedBy: 'scim', version: row.version + 1, updatedAt: Date.now() });
      let written: boolean;
      try {
        written = await this.dataSource.transaction(async (m) => {
          if (fields.userNameLower !== row.userNameLower && (await this.users.userNameTaken(fields.userName, id, m))) {
            throw ScimError.uniqueness(`userName "${fields.userName}" is already in use`);
          }
          return this.users.updateIfVersion(updated, row.version, m);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw ScimError.uniqueness(`userName "${fields.userName}" is already in use`);
        throw error;
      }
      if (written) {
        const changed = Object.keys(fields).filter((k) => !deepEqual((row as any)[k], (fields as any)[k]) && k !== 'userNameLower');
        this.audit.emit({ type: 'user.updated', userId: id, clientId: caller.clientId, data: { via: 'scim', changed } });
        return this.get(id);
      }
      if (hasPreconditions(preconditions)) throw ScimError.preconditionFailed();
      if (attempt >= MAX_WRITE_ATTEMPTS) throw new ScimError(409, undefined, 'the resource is being modified concurrently; retry');
    }
  }

  async replace(id: string, body: unknown, preconditions: Preconditions, caller: ScimCaller): Promise<Doc> {
    const input = readResourceBody(this.rt, body);
    return this.modify(id, preconditions, caller, (_row, current) => {
      this.checkImmutable(current, input);
      // Read-only data (id, meta, groups, links) stays as Herald has it.
      const next: Doc = { ...input, id: current.id };
      const links = current[HERALD_EXTENSION_URN]?.links;
      if (links) next[HERALD_EXTENSION_URN] = { ...(next[HERALD_EXTENSION_URN] ?? {}), links };
      return next;
    });
  }

  /** PUT may not change an immutable attribute that has a value (RFC 7644 §3.5.1). */
  private checkImmutable(current: Doc, input: Doc): void {
    const check = (attrs: { name: string; mutability: string }[], before: Doc | undefined, after: Doc | undefined, prefix: string) => {
      for (const attr of attrs) {
        if (attr.mutability !== 'immutable') continue;
        const was = before?.[attr.name];
        if (was !== undefined && !deepEqual(was, after?.[attr.name])) throw ScimError.mutability(`"${prefix}${attr.name}" is immutable`);
      }
    };
    check(this.rt.core.attributes, current, input, '');
    for (const ext of this.rt.extensions) check(ext.attributes, current[ext.id], input[ext.id], `${ext.id}:`);
  }

  async patch(id: string, body: unknown, preconditions: Preconditions, caller: ScimCaller): Promise<Doc> {
    const operations = readPatchRequest(body);
    return this.modify(id, preconditions, caller, (_row, current) => applyPatch(this.rt, current, operations, { maxFilterLength: this.settings.maxFilterLength }));
  }

  /** Deprovisioning: the account and everything that lets it sign in or hold tokens. */
  async delete(id: string, preconditions: Preconditions, caller: ScimCaller): Promise<void> {
    const row = await this.load(id);
    checkPreconditions(preconditions, row.version);
    await this.dataSource.transaction(async (m) => {
      const current = await this.users.findRowById(id, m);
      if (!current) throw ScimError.notFound(`User ${id} not found`);
      if (hasPreconditions(preconditions) && current.version !== row.version) throw ScimError.preconditionFailed();
      await this.privacy.deprovision(id, m);
    });
    this.audit.emit({ type: 'user.deleted', userId: id, clientId: caller.clientId, data: { via: 'scim' } });
  }
}
