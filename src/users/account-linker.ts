/**
 * Account resolution for a sign-in: the (connector, upstream subject) link decides the Herald
 * account. Without a link, an explicit config rule may bind the sign-in to an existing account
 * (by externalId, or by a *verified* email); otherwise a new account is created just in time.
 * The `sub` of Herald's tokens is always the Herald account id, never the upstream subject.
 */
import type { HeraldConfig } from '../config/config.schema.js';
import type { UpstreamIdentity } from '../connectors/connector.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Account } from './account-attributes.js';
import { UsersRepository, UsernameTakenError, toAccount } from './users.repository.js';
import { randomUUID } from 'node:crypto';

export class AccountInactiveError extends Error {
  constructor(readonly userId: string) {
    super('account is deactivated');
    this.name = 'AccountInactiveError';
  }
}

export interface ResolvedAccount {
  account: Account;
  created: boolean;
  linked: 'existing_link' | 'external_id' | 'verified_email' | 'new_account';
}

export class AccountLinker {
  constructor(
    private readonly users: UsersRepository,
    private readonly config: HeraldConfig,
    private readonly audit: AuditService,
  ) {}

  async resolve(connectorId: string, identity: UpstreamIdentity, clientId: string): Promise<ResolvedAccount> {
    const attributes = identity.attributes;
    const link = await this.users.findLink(connectorId, identity.subject);
    if (link) {
      await this.users.touchLink(link.id, attributes);
      const account = await this.refreshProfile(link.userId, identity, connectorId);
      return { account, created: false, linked: 'existing_link' };
    }

    const rules = this.config.accountLinking;
    if (rules.byExternalId.includes(connectorId)) {
      const matches = await this.users.findByExternalId(identity.subject);
      if (matches.length === 1) return this.bind(matches[0]!, connectorId, identity, clientId, 'external_id');
    }
    if (this.trustsEmailsOf(connectorId) && identity.email && identity.emailVerified === true) {
      // Only accounts whose email a trusted source verified: provisioning (SCIM) or a connector
      // that is itself trusted for linking. An email another IdP merely *called* verified
      // must not attract a trusted sign-in into that IdP's account.
      const matches = [];
      for (const candidate of await this.users.findByVerifiedEmail(identity.email)) {
        if (await this.emailVerifiedByTrustedSource(candidate.id)) matches.push(candidate);
      }
      if (matches.length === 1) return this.bind(matches[0]!, connectorId, identity, clientId, 'verified_email');
    }

    const account = await this.createAccount(connectorId, identity);
    await this.users.addLink(account.id, connectorId, identity.subject, attributes);
    this.audit.emit({ type: 'user.created', userId: account.id, clientId, connectorId, data: { via: 'sign_in' } });
    return { account, created: true, linked: 'new_account' };
  }

  /** Connectors whose verified emails the operator trusts for linking (config accountLinking.byVerifiedEmail). */
  private trustsEmailsOf(connectorId: string): boolean {
    return this.config.accountLinking.byVerifiedEmail.includes(connectorId);
  }

  private async emailVerifiedByTrustedSource(userId: string): Promise<boolean> {
    const row = await this.users.findRowById(userId);
    if (!row?.emailVerified) return false;
    if (row.managedBy === 'scim') return true;
    const links = await this.users.linksOf(userId);
    return links.some((link) => this.trustsEmailsOf(link.connectorId));
  }

  private async bind(account: Account, connectorId: string, identity: UpstreamIdentity, clientId: string, rule: 'external_id' | 'verified_email'): Promise<ResolvedAccount> {
    await this.users.addLink(account.id, connectorId, identity.subject, identity.attributes);
    this.audit.emit({ type: 'user.linked', userId: account.id, clientId, connectorId, data: { rule } });
    const refreshed = await this.refreshProfile(account.id, identity, connectorId);
    return { account: refreshed, created: false, linked: rule };
  }

  private async createAccount(connectorId: string, identity: UpstreamIdentity): Promise<Account> {
    const profile = profileFrom(identity);
    // The email becomes the userName only when a trusted connector verified it: provisioning
    // clients match accounts by userName, so an unverified (or untrusted) email would let its
    // owner squat a name that provisioning later hands someone else's attributes.
    const emailName = identity.email && identity.emailVerified === true && this.trustsEmailsOf(connectorId) ? identity.email : undefined;
    const candidates = [emailName, `${connectorId}:${identity.subject}`, `${connectorId}:${identity.subject}:${randomUUID().slice(0, 8)}`].filter(
      (name): name is string => !!name,
    );
    for (const userName of candidates) {
      try {
        return await this.users.create({
          userName,
          email: identity.email ?? null,
          emailVerified: identity.emailVerified === true,
          core: profile,
        });
      } catch (error) {
        if (!(error instanceof UsernameTakenError)) throw error;
      }
    }
    throw new Error('could not choose a unique userName');
  }

  /**
   * Upstream profile fields land on the account at each sign-in — unless a provisioning client
   * (SCIM) manages the account: then the provisioned attributes are the source of truth.
   */
  private async refreshProfile(userId: string, identity: UpstreamIdentity, connectorId: string): Promise<Account> {
    const row = await this.users.findRowById(userId);
    if (!row) throw new Error('linked account vanished');
    if (row.managedBy === 'scim') return toAccount(row);
    const profile = profileFrom(identity);
    let changed = false;
    const core = { ...row.core } as Record<string, unknown>;
    for (const [key, value] of Object.entries(profile)) {
      if (JSON.stringify(core[key]) !== JSON.stringify(value)) {
        core[key] = key === 'name' ? { ...(core.name as object), ...(value as object) } : value;
        changed = true;
      }
    }
    // The email (and whether it is verified) follows a trusted connector, or the only connector
    // the account has: an untrusted second link cannot rewrite the account's verified email.
    const links = await this.users.linksOf(userId);
    const mayUpdateEmail = this.trustsEmailsOf(connectorId) || links.every((link) => link.connectorId === connectorId);
    if (mayUpdateEmail && identity.email && (identity.email.toLowerCase() !== row.email || (identity.emailVerified === true) !== row.emailVerified)) {
      row.email = identity.email.toLowerCase();
      row.emailVerified = identity.emailVerified === true;
      changed = true;
    }
    if (changed) {
      row.core = core;
      row.version += 1;
      await this.users.save(row);
    }
    const account = await this.users.findById(userId);
    return account!;
  }
}

function profileFrom(identity: UpstreamIdentity): Record<string, unknown> {
  const profile: Record<string, unknown> = {};
  const name: Record<string, string> = {};
  if (identity.givenName) name.givenName = identity.givenName;
  if (identity.familyName) name.familyName = identity.familyName;
  if (identity.name) name.formatted = identity.name;
  if (Object.keys(name).length) profile.name = name;
  if (identity.name) profile.displayName = identity.name;
  if (identity.email) profile.emails = [{ value: identity.email, type: 'work', primary: true }];
  return profile;
}
