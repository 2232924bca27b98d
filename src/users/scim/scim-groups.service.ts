/**
 * SCIM Groups. Membership lives in `user_group_members`; a change of members also gives the
 * affected users a new version (their `groups` attribute changed). Group PATCH answers 204
 * unless the client asked for attributes (RFC 7644 §3.5.2), which is what Microsoft Entra expects.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditService } from '../../audit/audit.service.js';
import { GroupEntity } from '../group.entity.js';
import type { GroupsRepository, MemberRef } from '../groups.repository.js';
import type { UsersRepository } from '../users.repository.js';
import { ScimError } from './scim.errors.js';
import { CORE_GROUP_URN, type ScimSchemas } from './scim-schema.js';
import { pruneEmpty, readResourceBody, validateResource } from './scim-resource.js';
import { applyPatch, readPatchRequest } from './scim-patch.js';
import { checkPreconditions, etagOf, hasPreconditions, type Preconditions, readListQuery, runList, type ListResponse, type ResourceSource } from './scim-query.js';
import { isUniqueViolation, type ScimCaller, type ScimSettings } from './scim-users.service.js';

type Doc = Record<string, any>;

const iso = (ms: number) => new Date(ms).toISOString();

interface GroupFields {
  displayName: string;
  displayNameLower: string;
  externalId: string | null;
  members: MemberRef[];
}

export class ScimGroupsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly groups: GroupsRepository,
    private readonly users: UsersRepository,
    private readonly audit: AuditService,
    private readonly schemas: ScimSchemas,
    private readonly settings: ScimSettings,
  ) {}

  private get rt() {
    return this.schemas.group;
  }

  location(id: string): string {
    return `${this.settings.baseUrl}/Groups/${id}`;
  }

  async toDocuments(rows: GroupEntity[]): Promise<Doc[]> {
    const members = await this.groups.membersOf(rows.map((r) => r.id));
    const userIds = members.filter((m) => m.memberType === 'User').map((m) => m.memberId);
    const groupIds = members.filter((m) => m.memberType === 'Group').map((m) => m.memberId);
    const users = new Map((await this.users.findRowsBy('id', [...new Set(userIds)])).map((u) => [u.id, u]));
    const nested = new Map((await this.groups.findBy('id', [...new Set(groupIds)])).map((g) => [g.id, g]));
    return rows.map((row) => {
      const doc: Doc = { schemas: [CORE_GROUP_URN], id: row.id };
      if (row.externalId) doc.externalId = row.externalId;
      doc.displayName = row.displayName;
      const list = members
        .filter((m) => m.groupId === row.id)
        .map((m) => {
          const isUser = m.memberType === 'User';
          const display = isUser ? (users.get(m.memberId)?.core?.displayName ?? users.get(m.memberId)?.userName) : nested.get(m.memberId)?.displayName;
          return { value: m.memberId, $ref: `${this.settings.baseUrl}/${isUser ? 'Users' : 'Groups'}/${m.memberId}`, type: m.memberType, ...(display ? { display } : {}) };
        });
      if (list.length) doc.members = list;
      doc.meta = { resourceType: 'Group', created: iso(row.createdAt), lastModified: iso(row.updatedAt), location: this.location(row.id), version: etagOf(row.version) };
      return doc;
    });
  }

  private async load(id: string, manager?: EntityManager): Promise<GroupEntity> {
    const row = await this.groups.findById(id, manager);
    if (!row) throw ScimError.notFound(`Group ${id} not found`);
    return row;
  }

  async get(id: string): Promise<Doc> {
    const [doc] = await this.toDocuments([await this.load(id)]);
    return doc!;
  }

  async list(params: Record<string, unknown>): Promise<ListResponse> {
    const query = readListQuery(this.rt, params, this.settings);
    const source: ResourceSource<GroupEntity> = {
      byIndex: (hint) => this.groups.findBy(hint.column as 'id' | 'displayName' | 'externalId', hint.values),
      count: () => this.groups.count(),
      page: (offset, limit) => this.groups.page(offset, limit),
      all: () => this.groups.all(),
      toDocuments: (rows) => this.toDocuments(rows),
    };
    return runList(this.rt, source, query, this.settings);
  }

  /** Members must name existing users or groups; a group cannot contain itself. */
  private async resolveMembers(groupId: string, doc: Doc, manager: EntityManager): Promise<MemberRef[]> {
    const list: Doc[] = Array.isArray(doc.members) ? doc.members : [];
    const ids = [...new Set(list.map((m) => String(m.value)))];
    const users = new Set((await this.users.findRowsBy('id', ids, manager)).map((u) => u.id));
    const groups = await this.groups.existingIds(ids, manager);
    return ids.map((id) => {
      const declared = list.find((m) => String(m.value) === id)?.type;
      const type = typeof declared === 'string' ? declared.toLowerCase() : undefined;
      if (id === groupId) throw ScimError.invalidValue('a group cannot be a member of itself');
      if (users.has(id) && type !== 'group') return { id, type: 'User' as const };
      if (groups.has(id) && type !== 'user') return { id, type: 'Group' as const };
      throw ScimError.invalidValue(`members: no ${type === 'group' ? 'Group' : type === 'user' ? 'User' : 'User or Group'} with id "${id}"`);
    });
  }

  private fieldsOf(doc: Doc): Omit<GroupFields, 'members'> {
    return { displayName: doc.displayName, displayNameLower: String(doc.displayName).toLowerCase(), externalId: doc.externalId ?? null };
  }

  /** Writes members and bumps the versions of users whose `groups` changed. */
  private async writeMembers(groupId: string, members: MemberRef[], manager: EntityManager) {
    const diff = await this.groups.setMembers(groupId, members, manager);
    const touchedUsers = [...diff.added, ...diff.removed].filter((m) => m.type === 'User').map((m) => m.id);
    await this.users.bumpVersions(touchedUsers, manager);
    return diff;
  }

  async create(body: unknown, caller: ScimCaller): Promise<Doc> {
    const input = pruneEmpty(this.rt, readResourceBody(this.rt, body));
    validateResource(this.rt, input);
    const fields = this.fieldsOf(input);
    const now = Date.now();
    const row = Object.assign(new GroupEntity(), { id: randomUUID(), ...fields, version: 1, createdAt: now, updatedAt: now });
    let added: MemberRef[] = [];
    try {
      await this.dataSource.transaction(async (m) => {
        if (await this.groups.displayNameTaken(fields.displayName, undefined, m)) throw ScimError.uniqueness(`displayName "${fields.displayName}" is already in use`);
        await this.groups.insert(row, m);
        added = (await this.writeMembers(row.id, await this.resolveMembers(row.id, input, m), m)).added;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ScimError.uniqueness(`displayName "${fields.displayName}" is already in use`);
      throw error;
    }
    this.audit.emit({ type: 'group.created', clientId: caller.clientId, data: { via: 'scim', group: row.id, displayName: row.displayName, added: added.map((a) => a.id) } });
    return this.get(row.id);
  }

  private async modify(id: string, preconditions: Preconditions, caller: ScimCaller, change: (current: Doc) => Doc): Promise<Doc> {
    const row = await this.load(id);
    checkPreconditions(preconditions, row.version);
    const [current] = await this.toDocuments([row]);
    const next = pruneEmpty(this.rt, change(current!));
    validateResource(this.rt, next);
    const fields = this.fieldsOf(next);
    let result: { changed: string[]; added: string[]; removed: string[] } = { changed: [], added: [], removed: [] };
    try {
      result = await this.dataSource.transaction(async (m) => {
        const fresh = await this.load(id, m);
        if (fresh.version !== row.version) {
          if (hasPreconditions(preconditions)) throw ScimError.preconditionFailed();
          throw new ScimError(409, undefined, 'the group is being modified concurrently; retry');
        }
        const members = await this.resolveMembers(id, next, m);
        const diff = await this.writeMembers(id, members, m);
        const changed = (['displayName', 'externalId'] as const).filter((k) => fresh[k] !== fields[k]);
        if (diff.added.length || diff.removed.length) changed.push('members' as never);
        if (!changed.length) return { changed, added: [], removed: [] };
        if (fields.displayNameLower !== fresh.displayNameLower && (await this.groups.displayNameTaken(fields.displayName, id, m))) {
          throw ScimError.uniqueness(`displayName "${fields.displayName}" is already in use`);
        }
        const updated = Object.assign(new GroupEntity(), { ...fresh, ...fields, version: fresh.version + 1, updatedAt: Date.now() });
        if (!(await this.groups.updateIfVersion(updated, fresh.version, m))) throw ScimError.preconditionFailed();
        return { changed, added: diff.added.map((a) => a.id), removed: diff.removed.map((r) => r.id) };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ScimError.uniqueness(`displayName "${fields.displayName}" is already in use`);
      throw error;
    }
    if (result.changed.length) {
      this.audit.emit({ type: 'group.updated', clientId: caller.clientId, data: { via: 'scim', group: id, ...result } });
    }
    return this.get(id);
  }

  async replace(id: string, body: unknown, preconditions: Preconditions, caller: ScimCaller): Promise<Doc> {
    const input = readResourceBody(this.rt, body);
    return this.modify(id, preconditions, caller, (current) => ({ ...input, id: current.id }));
  }

  async patch(id: string, body: unknown, preconditions: Preconditions, caller: ScimCaller): Promise<Doc> {
    const operations = readPatchRequest(body);
    return this.modify(id, preconditions, caller, (current) => applyPatch(this.rt, current, operations, { maxFilterLength: this.settings.maxFilterLength }));
  }

  async delete(id: string, preconditions: Preconditions, caller: ScimCaller): Promise<void> {
    const row = await this.load(id);
    checkPreconditions(preconditions, row.version);
    let removed: MemberRef[] = [];
    await this.dataSource.transaction(async (m) => {
      const fresh = await this.load(id, m);
      if (hasPreconditions(preconditions) && fresh.version !== row.version) throw ScimError.preconditionFailed();
      removed = await this.groups.delete(id, m);
      // Groups that contained this one lose a member; users that were in it lose a group.
      const parents = await this.groups.removeMemberEverywhere(id, m);
      await this.groups.bumpVersions(parents, m);
      await this.users.bumpVersions(removed.filter((r) => r.type === 'User').map((r) => r.id), m);
    });
    this.audit.emit({ type: 'group.deleted', clientId: caller.clientId, data: { via: 'scim', group: id, displayName: row.displayName, members: removed.map((r) => r.id) } });
  }
}
