/**
 * The only place that reads and writes accounts and their upstream links.
 */
import { bumpVersions, updateIfVersion } from '../storage/versioned-writes.js';
import { randomUUID } from 'node:crypto';
import { In, type DataSource, type EntityManager, type Repository } from 'typeorm';
import { UserEntity } from './user.entity.js';
import { UserLinkEntity } from './user-link.entity.js';
import type { Account, AccountReader } from './account-attributes.js';

export interface NewAccount {
  userName: string;
  externalId?: string | null;
  active?: boolean;
  email?: string | null;
  emailVerified?: boolean;
  core?: Record<string, unknown>;
  enterprise?: Record<string, unknown>;
  custom?: Record<string, unknown>;
}

export class UsernameTakenError extends Error {
  constructor(readonly userName: string) {
    super(`userName "${userName}" is already taken`);
    this.name = 'UsernameTakenError';
  }
}

export function toAccount(row: UserEntity): Account {
  return {
    id: row.id,
    userName: row.userName,
    externalId: row.externalId,
    active: row.active,
    email: row.email,
    emailVerified: row.emailVerified,
    core: row.core ?? {},
    enterprise: row.enterprise ?? {},
    custom: row.custom ?? {},
  };
}

export class UsersRepository implements AccountReader {
  constructor(private readonly dataSource: DataSource) {}

  private users(manager?: EntityManager): Repository<UserEntity> {
    return (manager ?? this.dataSource.manager).getRepository(UserEntity);
  }

  private links(manager?: EntityManager): Repository<UserLinkEntity> {
    return (manager ?? this.dataSource.manager).getRepository(UserLinkEntity);
  }

  async findById(id: string): Promise<Account | undefined> {
    const row = await this.users().findOne({ where: { id } });
    return row ? toAccount(row) : undefined;
  }

  async findRowById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.users(manager).findOne({ where: { id } });
  }

  async findByUserName(userName: string): Promise<Account | undefined> {
    const row = await this.users().findOne({ where: { userNameLower: userName.toLowerCase() } });
    return row ? toAccount(row) : undefined;
  }

  async findByVerifiedEmail(email: string): Promise<Account[]> {
    const rows = await this.users().find({ where: { email: email.toLowerCase(), emailVerified: true } });
    return rows.map(toAccount);
  }

  async findByExternalId(externalId: string): Promise<Account[]> {
    const rows = await this.users().find({ where: { externalId } });
    return rows.map(toAccount);
  }

  async findLink(connectorId: string, upstreamSubject: string): Promise<UserLinkEntity | null> {
    return this.links().findOne({ where: { connectorId, upstreamSubject } });
  }

  async linksOf(userId: string): Promise<UserLinkEntity[]> {
    return this.links().find({ where: { userId }, order: { createdAt: 'ASC' } });
  }

  async create(input: NewAccount, manager?: EntityManager): Promise<Account> {
    const now = Date.now();
    const row: UserEntity = Object.assign(new UserEntity(), {
      id: randomUUID(),
      userName: input.userName,
      userNameLower: input.userName.toLowerCase(),
      externalId: input.externalId ?? null,
      active: input.active ?? true,
      email: input.email ? input.email.toLowerCase() : null,
      emailVerified: input.emailVerified ?? false,
      core: input.core ?? {},
      enterprise: input.enterprise ?? {},
      custom: input.custom ?? {},
      version: 1,
      createdAt: now,
      updatedAt: now,
    });
    const existing = await this.users(manager).findOne({ where: { userNameLower: row.userNameLower } });
    if (existing) throw new UsernameTakenError(input.userName);
    await this.users(manager).insert(row);
    return toAccount(row);
  }

  async save(row: UserEntity, manager?: EntityManager): Promise<void> {
    row.updatedAt = Date.now();
    await this.users(manager).save(row);
  }

  async addLink(userId: string, connectorId: string, upstreamSubject: string, attributes: Record<string, unknown> | null, manager?: EntityManager): Promise<UserLinkEntity> {
    const now = Date.now();
    const link: UserLinkEntity = Object.assign(new UserLinkEntity(), {
      id: randomUUID(),
      userId,
      connectorId,
      upstreamSubject,
      lastAttributes: attributes,
      createdAt: now,
      lastLoginAt: now,
    });
    await this.links(manager).insert(link);
    return link;
  }

  async touchLink(linkId: string, attributes: Record<string, unknown> | null): Promise<void> {
    await this.links().update({ id: linkId }, { lastAttributes: attributes as any, lastLoginAt: Date.now() });
  }

  // --- Provisioning (SCIM) and privacy: rows as stored, with optimistic concurrency on `version`.

  /** Rows whose indexed column equals one of `values` (userName compared lower-cased). */
  async findRowsBy(column: 'id' | 'userName' | 'externalId', values: string[], manager?: EntityManager): Promise<UserEntity[]> {
    if (!values.length) return [];
    const where =
      column === 'userName' ? { userNameLower: In(values.map((v) => v.toLowerCase())) } : column === 'id' ? { id: In(values) } : { externalId: In(values) };
    return this.users(manager).find({ where, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async countRows(): Promise<number> {
    return this.users().count();
  }

  /** A page in the stable default order (creation time, then id). */
  async pageRows(offset: number, limit: number): Promise<UserEntity[]> {
    if (limit <= 0) return [];
    return this.users().find({ order: { createdAt: 'ASC', id: 'ASC' }, skip: offset, take: limit });
  }

  async allRows(): Promise<UserEntity[]> {
    return this.users().find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async linksOfUsers(userIds: string[], manager?: EntityManager): Promise<UserLinkEntity[]> {
    if (!userIds.length) return [];
    return this.links(manager).find({ where: { userId: In(userIds) }, order: { createdAt: 'ASC' } });
  }

  /** Whether another account already has this userName (case-insensitive). */
  async userNameTaken(userName: string, exceptId?: string, manager?: EntityManager): Promise<boolean> {
    const row = await this.users(manager).findOne({ where: { userNameLower: userName.toLowerCase() } });
    return !!row && row.id !== exceptId;
  }

  async insertRow(row: UserEntity, manager?: EntityManager): Promise<void> {
    await this.users(manager).insert(row);
  }

  /** Writes `row` (with its new `version`) only if the stored version is still `expectedVersion`. */
  async updateIfVersion(row: UserEntity, expectedVersion: number, manager?: EntityManager): Promise<boolean> {
    return updateIfVersion(this.users(manager), UserEntity, row, expectedVersion);
  }

  /** Marks accounts changed (their SCIM `groups` changed): new version and timestamp. */
  async bumpVersions(ids: string[], manager?: EntityManager): Promise<void> {
    await bumpVersions(this.users(manager), UserEntity, ids);
  }

  async deleteRow(id: string, manager?: EntityManager): Promise<boolean> {
    const result = await this.users(manager).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  async deleteLinksOf(userId: string, manager?: EntityManager): Promise<number> {
    const result = await this.links(manager).delete({ userId });
    return result.affected ?? 0;
  }
}
