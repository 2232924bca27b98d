/**
 * The only place that reads and writes groups and memberships. Writes that belong together
 * (group row, member rows, versions of the users whose `groups` changed) take the caller's
 * EntityManager so that they commit in one transaction.
 */
import { bumpVersions, updateIfVersion } from '../storage/versioned-writes.js';
import { In, type DataSource, type EntityManager, type Repository } from 'typeorm';
import { GroupEntity } from './group.entity.js';
import { GroupMemberEntity } from './group-member.entity.js';

export interface MemberRef {
  id: string;
  type: 'User' | 'Group';
}

export interface MembershipDiff {
  added: MemberRef[];
  removed: MemberRef[];
}

export class GroupsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private groups(manager?: EntityManager): Repository<GroupEntity> {
    return (manager ?? this.dataSource.manager).getRepository(GroupEntity);
  }

  private members(manager?: EntityManager): Repository<GroupMemberEntity> {
    return (manager ?? this.dataSource.manager).getRepository(GroupMemberEntity);
  }

  async findById(id: string, manager?: EntityManager): Promise<GroupEntity | null> {
    return this.groups(manager).findOne({ where: { id } });
  }

  async findBy(column: 'id' | 'displayName' | 'externalId', values: string[]): Promise<GroupEntity[]> {
    if (!values.length) return [];
    const where =
      column === 'displayName' ? { displayNameLower: In(values.map((v) => v.toLowerCase())) } : column === 'id' ? { id: In(values) } : { externalId: In(values) };
    return this.groups().find({ where, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async count(): Promise<number> {
    return this.groups().count();
  }

  async page(offset: number, limit: number): Promise<GroupEntity[]> {
    if (limit <= 0) return [];
    return this.groups().find({ order: { createdAt: 'ASC', id: 'ASC' }, skip: offset, take: limit });
  }

  async all(): Promise<GroupEntity[]> {
    return this.groups().find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async existingIds(ids: string[], manager?: EntityManager): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.groups(manager).find({ where: { id: In(ids) }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
  }

  async displayNameTaken(displayName: string, exceptId?: string, manager?: EntityManager): Promise<boolean> {
    const row = await this.groups(manager).findOne({ where: { displayNameLower: displayName.toLowerCase() } });
    return !!row && row.id !== exceptId;
  }

  /** Members of the given groups, in insertion order. */
  async membersOf(groupIds: string[], manager?: EntityManager): Promise<GroupMemberEntity[]> {
    if (!groupIds.length) return [];
    return this.members(manager).find({ where: { groupId: In(groupIds) }, order: { createdAt: 'ASC', memberId: 'ASC' } });
  }

  /** Direct memberships of the given members (users or groups), with the group rows. */
  async groupsOf(memberIds: string[], manager?: EntityManager): Promise<Array<{ memberId: string; group: GroupEntity }>> {
    if (!memberIds.length) return [];
    const rows = await this.members(manager).find({ where: { memberId: In(memberIds) } });
    const groups = await this.groups(manager).find({ where: { id: In([...new Set(rows.map((r) => r.groupId))]) } });
    const byId = new Map(groups.map((g) => [g.id, g]));
    return rows
      .filter((r) => byId.has(r.groupId))
      .map((r) => ({ memberId: r.memberId, group: byId.get(r.groupId)! }))
      .sort((a, b) => a.group.displayNameLower.localeCompare(b.group.displayNameLower));
  }

  async insert(group: GroupEntity, manager?: EntityManager): Promise<void> {
    await this.groups(manager).insert(group);
  }

  /** Writes `group` only if the stored version is still `expectedVersion`. */
  async updateIfVersion(group: GroupEntity, expectedVersion: number, manager?: EntityManager): Promise<boolean> {
    return updateIfVersion(this.groups(manager), GroupEntity, group, expectedVersion);
  }

  async bumpVersions(ids: string[], manager?: EntityManager): Promise<void> {
    await bumpVersions(this.groups(manager), GroupEntity, ids);
  }

  /** Makes the members of `groupId` exactly `wanted`; returns what changed. */
  async setMembers(groupId: string, wanted: MemberRef[], manager: EntityManager): Promise<MembershipDiff> {
    const current = await this.members(manager).find({ where: { groupId } });
    const currentIds = new Set(current.map((m) => m.memberId));
    const wantedIds = new Set(wanted.map((m) => m.id));
    const added = wanted.filter((m) => !currentIds.has(m.id));
    const removed = current.filter((m) => !wantedIds.has(m.memberId)).map((m) => ({ id: m.memberId, type: m.memberType }));
    if (removed.length) await this.members(manager).delete({ groupId, memberId: In(removed.map((m) => m.id)) });
    const now = Date.now();
    if (added.length) {
      await this.members(manager).insert(added.map((m, i) => Object.assign(new GroupMemberEntity(), { groupId, memberId: m.id, memberType: m.type, createdAt: now + i })));
    }
    return { added, removed };
  }

  /** Removes a user or group from every group it belongs to; returns those groups' ids. */
  async removeMemberEverywhere(memberId: string, manager: EntityManager): Promise<string[]> {
    const rows = await this.members(manager).find({ where: { memberId } });
    if (rows.length) await this.members(manager).delete({ memberId });
    return [...new Set(rows.map((r) => r.groupId))];
  }

  async delete(id: string, manager: EntityManager): Promise<MemberRef[]> {
    const members = await this.members(manager).find({ where: { groupId: id }, order: { createdAt: 'ASC', memberId: 'ASC' } });
    await this.members(manager).delete({ groupId: id });
    await this.groups(manager).delete({ id });
    return members.map((m) => ({ id: m.memberId, type: m.memberType }));
  }
}
