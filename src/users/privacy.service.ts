/**
 * Personal data (GDPR art. 15 and 17): `export` gathers everything Herald holds about a person;
 * `erase` removes it. Deprovisioning (SCIM DELETE) removes the account and everything that lets
 * it sign in or hold tokens; erasure additionally removes in-flight sign-in state that mentions
 * the person and pseudonymizes the audit trail, so that afterwards no row of any table names
 * them (the audit events stay, as facts about a pseudonym).
 */
import { randomBytes } from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { ClaimSnapshotEntity } from '../claims/claim-snapshot.entity.js';
import { ClaimProviderValueEntity } from '../claims/claim-provider-value.entity.js';
import { FlowStateEntity } from '../connectors/flow-state.entity.js';
import { OidcPayloadEntity } from '../oauth/oidc-payload.entity.js';
import type { GroupsRepository } from './groups.repository.js';
import type { UserEntity } from './user.entity.js';
import type { UserLinkEntity } from './user-link.entity.js';
import type { UsersRepository } from './users.repository.js';

export interface Actor {
  /** OAuth client of an API caller, or null for the CLI. */
  clientId: string | null;
  /** `scim`, `admin` or `cli`. */
  via: string;
}

export interface DeprovisionResult {
  links: number;
  groups: string[];
  oidcRecords: number;
  claimSnapshots: number;
  claimProviderValues: number;
}

export interface ErasureResult extends DeprovisionResult {
  pseudonym: string;
  flowStates: number;
  auditEvents: number;
}

export class UserNotFoundError extends Error {
  constructor(readonly ref: string) {
    super(`no user "${ref}"`);
    this.name = 'UserNotFoundError';
  }
}

/** LIKE pattern for a substring, with LIKE's wildcards escaped (used with ESCAPE '!'). */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

function iso(ms: number | null | undefined): string | null {
  return typeof ms === 'number' ? new Date(ms).toISOString() : null;
}

function parse(payload: string): Record<string, any> {
  try {
    return JSON.parse(payload) as Record<string, any>;
  } catch {
    return {};
  }
}

export class PrivacyService {
  /** Called after an erasure with the erased user id (e.g. to drop in-memory caches). */
  private readonly erasureHooks: Array<(userId: string) => void> = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly groups: GroupsRepository,
    private readonly audit: AuditService,
  ) {}

  onErase(hook: (userId: string) => void): void {
    this.erasureHooks.push(hook);
  }

  /** A user by id, or by userName (case-insensitive) for operators. */
  async resolve(ref: string): Promise<UserEntity> {
    const row = (await this.users.findRowById(ref)) ?? (await this.users.findRowsBy('userName', [ref]))[0];
    if (!row) throw new UserNotFoundError(ref);
    return row;
  }

  private async grantIds(userId: string, manager: EntityManager): Promise<string[]> {
    const rows = await manager.getRepository(OidcPayloadEntity).find({ where: { model: 'Grant', accountId: userId }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /** oidc-provider records of the user: grants, tokens, codes, sessions, interactions. */
  private async oidcRecords(userId: string, manager: EntityManager): Promise<OidcPayloadEntity[]> {
    const grants = await this.grantIds(userId, manager);
    const qb = manager
      .getRepository(OidcPayloadEntity)
      .createQueryBuilder('p')
      .where('p.accountId = :userId', { userId })
      .orWhere("LOWER(p.payload) LIKE :pattern ESCAPE '!'", { pattern: likePattern(userId) });
    if (grants.length) qb.orWhere('p.grantId IN (:...grants)', { grants });
    return qb.getMany();
  }

  /**
   * Removes the account and what lets it act: upstream links, group memberships, grants,
   * refresh and access tokens, sessions, claim snapshots and cached claim-provider values.
   * Audit events are kept as they are (SCIM deprovisioning is not an erasure request).
   */
  async deprovision(userId: string, manager?: EntityManager): Promise<DeprovisionResult> {
    const run = async (m: EntityManager): Promise<DeprovisionResult> => {
      const links = await this.users.deleteLinksOf(userId, m);
      const groups = await this.groups.removeMemberEverywhere(userId, m);
      await this.groups.bumpVersions(groups, m);
      const records = await this.oidcRecords(userId, m);
      for (const record of records) await m.getRepository(OidcPayloadEntity).delete({ id: record.id, model: record.model });
      const snapshots = await m.getRepository(ClaimSnapshotEntity).delete({ userId });
      const values = await m.getRepository(ClaimProviderValueEntity).delete({ userId });
      await this.users.deleteRow(userId, m);
      return { links, groups, oidcRecords: records.length, claimSnapshots: snapshots.affected ?? 0, claimProviderValues: values.affected ?? 0 };
    };
    const result = manager ? await run(manager) : await this.dataSource.transaction(run);
    for (const hook of this.erasureHooks) hook(userId);
    return result;
  }

  /**
   * Strings that identify the person (looked for in audit data and in-flight sign-in state, as
   * whole tokens: see `IdentifierMatcher`).
   */
  private identifiers(row: UserEntity, links: UserLinkEntity[]): string[] {
    const emails = Array.isArray(row.core?.emails) ? row.core.emails.map((e: any) => e?.value) : [];
    const values = [row.id, row.userName, row.email, row.externalId, ...emails, ...links.map((l) => l.upstreamSubject)];
    // Short strings would match unrelated text; ids, user names and emails are long enough.
    return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length >= 4).map((v) => v.toLowerCase()))];
  }

  /** Personal strings that appear only in events about the person (names). */
  private names(row: UserEntity): string[] {
    const name = (row.core?.name ?? {}) as Record<string, unknown>;
    const values = [row.core?.displayName, row.core?.nickName, name.formatted, name.givenName, name.familyName, name.middleName];
    return [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length >= 3).map((v) => v.toLowerCase()))];
  }

  /** Erases the person (GDPR art. 17). Returns the pseudonym their audit events now carry. */
  async erase(ref: string, actor: Actor): Promise<ErasureResult> {
    const row = await this.resolve(ref);
    const userId = row.id;
    // Events still buffered in memory must be in the table before it is pseudonymized.
    await this.audit.flush();
    const links = await this.users.linksOf(userId);
    const identifiers = new IdentifierMatcher(this.identifiers(row, links));
    const names = this.names(row);
    const pseudonym = `erased-${randomBytes(12).toString('hex')}`;

    const result = await this.dataSource.transaction(async (m) => {
      const deprovisioned = await this.deprovision(userId, m);
      const flowStates = await this.scrubFlowStates(identifiers, m);
      const auditEvents = await this.pseudonymizeAudit(userId, identifiers, names, pseudonym, m);
      return { ...deprovisioned, flowStates, auditEvents };
    });
    this.audit.emit({
      type: 'user.deleted',
      userId: pseudonym,
      clientId: actor.clientId,
      data: { via: actor.via, erasure: true, removed: { ...result, groups: result.groups.length } },
    });
    await this.audit.flush();
    return { ...result, pseudonym };
  }

  private async scrubFlowStates(identifiers: IdentifierMatcher, m: EntityManager): Promise<number> {
    if (!identifiers.values.length) return 0;
    const qb = m.getRepository(FlowStateEntity).createQueryBuilder('f');
    identifiers.values.forEach((id, i) => qb.orWhere(`LOWER(f.value) LIKE :p${i} ESCAPE '!'`, { [`p${i}`]: likePattern(id) }));
    // LIKE is only a coarse pre-filter: someone else's sign-in may contain the identifier as a substring.
    const rows = (await qb.getMany()).filter((r) => identifiers.mentionedIn(r.value));
    if (rows.length) await m.getRepository(FlowStateEntity).delete({ key: In(rows.map((r) => r.key)) });
    return rows.length;
  }

  /**
   * Audit events of the person: those about them (userId), and those whose reason or data
   * mention one of their identifiers as a whole token. The LIKE conditions only narrow the rows
   * read: `mike` is a substring of `mike.smith@…`, and that person's events are not this one's.
   */
  private async auditEventsOf(userId: string, identifiers: IdentifierMatcher, m: EntityManager): Promise<AuditEventEntity[]> {
    const qb = m.getRepository(AuditEventEntity).createQueryBuilder('e').where('e.userId = :userId', { userId });
    identifiers.values.forEach((id, i) => {
      qb.orWhere(`LOWER(e.data) LIKE :p${i} ESCAPE '!'`, { [`p${i}`]: likePattern(id) });
      qb.orWhere(`LOWER(e.reason) LIKE :p${i} ESCAPE '!'`);
    });
    const candidates = await qb.orderBy('e.time', 'ASC').addOrderBy('e.id', 'ASC').getMany();
    return candidates.filter((e) => e.userId === userId || identifiers.mentionedIn(e.reason) || identifiers.mentionedIn(e.data));
  }

  /** Replaces the person's id and identifying strings in audit events by the pseudonym. */
  private async pseudonymizeAudit(userId: string, identifiers: IdentifierMatcher, names: string[], pseudonym: string, m: EntityManager): Promise<number> {
    const repo = m.getRepository(AuditEventEntity);
    const events = await this.auditEventsOf(userId, identifiers, m);
    for (const event of events) {
      const about = event.userId === userId;
      // Identifiers are replaced only as whole tokens, so other people's values that contain them
      // stay intact; names appear only in the person's own events and are replaced wherever they occur.
      const scrub = (text: string) => {
        const replaced = identifiers.replaceIn(text, pseudonym);
        return about ? names.reduce((acc, s) => replaceInsensitive(acc, s, pseudonym), replaced) : replaced;
      };
      await repo.update(
        { id: event.id },
        {
          userId: about ? pseudonym : event.userId,
          reason: event.reason ? scrub(event.reason) : event.reason,
          data: event.data ? (deepMapStrings(event.data, scrub) as Record<string, any>) : event.data,
        },
      );
    }
    return events.length;
  }

  /**
   * Ids in the exported events that belong to other people: user ids (existing or already
   * deleted) — every id-like string that is neither this person's nor a group's.
   */
  private async otherPeople(userId: string, events: AuditEventEntity[]): Promise<Set<string>> {
    const ids = new Set<string>();
    const collect = (value: unknown) => {
      if (typeof value === 'string' && UUID.test(value) && value !== userId) ids.add(value);
      else if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    for (const event of events) collect(event.data);
    const groups = await this.groups.existingIds([...ids]);
    const groupEvents = events.flatMap((e) => (typeof e.data?.group === 'string' ? [e.data.group] : []));
    for (const id of [...groups, ...groupEvents]) ids.delete(id);
    return ids;
  }

  /** Everything Herald holds about a person (GDPR art. 15), as one JSON document. */
  async export(ref: string, actor: Actor): Promise<Record<string, unknown>> {
    const row = await this.resolve(ref);
    const userId = row.id;
    await this.audit.flush();
    const m = this.dataSource.manager;
    const links = await this.users.linksOf(userId);
    const memberships = await this.groups.groupsOf([userId]);
    const records = await this.oidcRecords(userId, m);
    const snapshots = await m.getRepository(ClaimSnapshotEntity).find({ where: { userId } });
    const providerValues = await m.getRepository(ClaimProviderValueEntity).find({ where: { userId } });
    const events = await this.auditEventsOf(userId, new IdentifierMatcher(this.identifiers(row, links)), m);

    const others = await this.otherPeople(userId, events);
    const payloads = records.map((r) => ({ model: r.model, payload: parse(r.payload), row: r }));
    // Token and code values are bearer secrets: only their metadata is exported.
    const tokenMeta = (p: Record<string, any>, row: OidcPayloadEntity) => ({
      clientId: p.clientId ?? null,
      scope: p.scope ?? null,
      audience: p.aud ?? (p.resource ? [].concat(p.resource) : null),
      issuedAt: iso(typeof p.iat === 'number' ? p.iat * 1000 : undefined),
      expiresAt: iso(row.expiresAt),
      consumed: row.consumedAt !== null,
    });
    const document = {
      exportedAt: new Date().toISOString(),
      subject: userId,
      account: {
        id: row.id,
        userName: row.userName,
        externalId: row.externalId,
        active: row.active,
        email: row.email,
        emailVerified: row.emailVerified,
        managedBy: row.managedBy,
        attributes: row.core,
        enterprise: row.enterprise,
        extension: row.custom,
        version: row.version,
        created: iso(row.createdAt),
        lastModified: iso(row.updatedAt),
      },
      links: links.map((l) => ({
        connector: l.connectorId,
        subject: l.upstreamSubject,
        created: iso(l.createdAt),
        lastLogin: iso(l.lastLoginAt),
        lastAttributes: l.lastAttributes,
        // Whatever else the link keeps about the upstream identity (e.g. its last profile).
        ...Object.fromEntries(Object.entries(l).filter(([key]) => !['id', 'userId', 'connectorId', 'upstreamSubject', 'createdAt', 'lastLoginAt', 'lastAttributes'].includes(key))),
      })),
      groups: memberships.map(({ group }) => ({ id: group.id, displayName: group.displayName })),
      consents: payloads
        .filter((p) => p.model === 'Grant')
        .map(({ payload, row: r }) => ({
          clientId: payload.clientId ?? null,
          openidScope: payload.openid?.scope ?? null,
          claims: payload.openid?.claims ?? [],
          resources: payload.resources ?? {},
          grantedAt: iso(typeof payload.iat === 'number' ? payload.iat * 1000 : undefined),
          expiresAt: iso(r.expiresAt),
        })),
      sessions: payloads
        .filter((p) => p.model === 'Session')
        .map(({ payload, row: r }) => ({
          signedInAt: iso(typeof payload.loginTs === 'number' ? payload.loginTs * 1000 : undefined),
          clients: Object.keys(payload.authorizations ?? {}),
          expiresAt: iso(r.expiresAt),
        })),
      tokens: payloads
        .filter((p) => ['RefreshToken', 'AccessToken', 'AuthorizationCode'].includes(p.model))
        .map(({ model, payload, row: r }) => ({ kind: model, ...tokenMeta(payload, r) })),
      claimSnapshots: snapshots.map((s) => ({ clientId: s.clientId, connectorId: s.connectorId, claims: s.claims, origins: s.origins, updated: iso(s.updatedAt) })),
      claimProviderValues: providerValues.map((v) => ({ provider: v.providerId, value: v.value, fetched: iso(v.fetchedAt) })),
      auditEvents: events.map((e) => ({
        id: e.id,
        time: iso(e.time),
        type: e.type,
        outcome: e.outcome,
        clientId: e.clientId,
        connectorId: e.connectorId,
        reason: e.reason,
        // Events about a group may name other members: they are not part of this person's data.
        data: e.data ? deepMapStrings(e.data, (v) => (others.has(v) ? '(another user)' : v)) : e.data,
      })),
    };
    this.audit.emit({ type: 'user.exported', userId, clientId: actor.clientId, data: { via: actor.via } });
    return document;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A character that can be part of a user name or an email address (besides `.`). */
const WORD = String.raw`[\p{L}\p{M}\p{N}_%+@-]`;

/**
 * Finds a person's identifiers in text as whole tokens: an identifier counts where it is not
 * bordered by a character that could continue a user name or an email address, so `mike` does
 * not occur in `mike.smith@corp.test` nor `al@x` in `hal@x`. A `.` after it counts as a border
 * only when nothing such follows (`write to mike@x.test.`). Case-insensitive.
 */
export class IdentifierMatcher {
  private readonly patterns: RegExp[];

  constructor(readonly values: string[]) {
    this.patterns = values.map(
      (v) => new RegExp(String.raw`(?<![.]|${WORD})${v.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}(?!${WORD})(?![.]+${WORD})`, 'giu'),
    );
  }

  /** Whether a string, or any string (key or value) inside a JSON value, names the person. */
  mentionedIn(value: unknown): boolean {
    if (typeof value === 'string') return this.patterns.some((p) => value.search(p) >= 0);
    if (Array.isArray(value)) return value.some((v) => this.mentionedIn(v));
    if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => this.mentionedIn(k) || this.mentionedIn(v));
    return false;
  }

  replaceIn(text: string, replacement: string): string {
    return this.patterns.reduce((acc, p) => acc.replace(p, () => replacement), text);
  }
}

function replaceInsensitive(text: string, needle: string, replacement: string): string {
  if (!needle) return text;
  const lowerText = text.toLowerCase();
  let out = '';
  let from = 0;
  for (let at = lowerText.indexOf(needle, from); at >= 0; at = lowerText.indexOf(needle, from)) {
    out += text.slice(from, at) + replacement;
    from = at + needle.length;
  }
  return out + text.slice(from);
}

function deepMapStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => deepMapStrings(v, map));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[map(k)] = deepMapStrings(v, map);
    return out;
  }
  return value;
}
