/**
 * `accountUpdates` from transforms: Herald extension attributes (the account's `custom` section,
 * urn:ietf:params:scim:schemas:extension:herald:2.0:User) a transform may store on the account.
 *
 * Rules (docs/transforms.md, "Account updates"):
 * - only names listed in `transforms.accountUpdates.allow` — every other name fails the run;
 * - each allowed name must be declared in `scim.extension.attributes` (checked at start-up), and a
 *   value must match its declared type (and canonical values); `null` removes the attribute;
 * - `immutable` attributes may only be set while they have no value;
 * - core SCIM attributes (userName, emails, name, active…) and Herald-maintained ones (`links`) can
 *   never be written by a transform.
 * Updates are applied after the sign-in passed the transforms and the risk policy, with the SCIM
 * version check (a concurrent SCIM write wins and the update is retried), and audited `user.updated`.
 */
import type { AuditService } from '../audit/audit.service.js';
import type { ExtensionAttributeConfig } from '../users/scim/scim.config.js';
import { RESERVED_EXTENSION_ATTRIBUTES } from '../users/scim/scim.config.js';
import type { UsersRepository } from '../users/users.repository.js';

/**
 * Names no transform may write, whatever the configuration says: they identify the account, and
 * claims read by name look in the extension first, so an extension value would shadow them.
 */
export const RESERVED_ACCOUNT_ATTRIBUTES: ReadonlySet<string> = new Set(
  [
    'id',
    'userName',
    'externalId',
    'active',
    'email',
    'emails',
    'emailVerified',
    'name',
    'displayName',
    'password',
    'groups',
    'meta',
    'schemas',
    ...RESERVED_EXTENSION_ATTRIBUTES,
  ].map((n) => n.toLowerCase()),
);

interface Declared {
  type: string;
  multiValued: boolean;
  immutable: boolean;
  canonicalValues?: string[];
}

function declaration(config: ExtensionAttributeConfig): Declared {
  if (typeof config === 'string') {
    const multiValued = config.endsWith('[]');
    return { type: multiValued ? config.slice(0, -2) : config, multiValued, immutable: false };
  }
  const multiValued = config.type.endsWith('[]') || config.multiValued === true;
  return {
    type: config.type.replace(/\[\]$/, ''),
    multiValued,
    immutable: config.mutability === 'immutable',
    canonicalValues: config.canonicalValues,
  };
}

function matches(type: string, value: unknown): boolean {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value);
    case 'dateTime':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    default:
      return typeof value === 'string';
  }
}

export class AccountUpdatePolicy {
  private readonly allowed: Map<string, Declared | undefined>;

  constructor(
    allow: readonly string[],
    private readonly declared: Record<string, ExtensionAttributeConfig>,
  ) {
    this.allowed = new Map(allow.map((name) => [name, this.declaredAs(name)]));
  }

  private declaredAs(name: string): Declared | undefined {
    const key = Object.keys(this.declared).find((k) => k.toLowerCase() === name.toLowerCase());
    return key ? declaration(this.declared[key]!) : undefined;
  }

  /** Configuration problems (reported at start-up with their dotted key). */
  configProblems(): string[] {
    const problems: string[] = [];
    [...this.allowed.keys()].forEach((name, i) => {
      if (RESERVED_ACCOUNT_ATTRIBUTES.has(name.toLowerCase())) problems.push(`transforms.accountUpdates.allow[${i}]: "${name}" is maintained by Herald or SCIM and cannot be updated by transforms`);
      else if (!this.allowed.get(name)) problems.push(`transforms.accountUpdates.allow[${i}]: "${name}" is not declared in scim.extension.attributes`);
    });
    return problems;
  }

  /** Problem with an update set, or undefined when every name and value is acceptable. */
  check(updates: Record<string, unknown>): string | undefined {
    for (const [name, value] of Object.entries(updates)) {
      if (RESERVED_ACCOUNT_ATTRIBUTES.has(name.toLowerCase())) return `accountUpdates.${name}: "${name}" is maintained by Herald or SCIM and cannot be updated by a transform`;
      const declared = this.allowed.get(name);
      if (!declared) return `accountUpdates.${name}: transforms may not update "${name}" (allow it in transforms.accountUpdates.allow)`;
      if (value === null) continue;
      const values = declared.multiValued ? value : [value];
      if (!Array.isArray(values)) return `accountUpdates.${name}: expected a list of ${declared.type}`;
      for (const item of values) {
        if (!matches(declared.type, item)) return `accountUpdates.${name}: expected ${declared.multiValued ? `a list of ${declared.type}` : declared.type}`;
        if (declared.canonicalValues && !declared.canonicalValues.includes(String(item))) return `accountUpdates.${name}: "${String(item)}" is not one of its canonical values`;
      }
    }
    return undefined;
  }

  isImmutable(name: string): boolean {
    return this.allowed.get(name)?.immutable === true;
  }
}

export class AccountUpdater {
  constructor(
    private readonly users: UsersRepository,
    private readonly policy: AccountUpdatePolicy,
    private readonly audit: AuditService,
  ) {}

  /** Stores validated updates; returns the names that changed. */
  async apply(userId: string, updates: Record<string, unknown>, context: { clientId: string; connectorId: string; transforms: string[] }): Promise<string[]> {
    const problem = this.policy.check(updates);
    if (problem) throw new Error(problem);
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await this.users.findRowById(userId);
      if (!row) throw new Error('account vanished');
      const custom = { ...(row.custom ?? {}) } as Record<string, unknown>;
      const changed: string[] = [];
      for (const [name, value] of Object.entries(updates)) {
        const current = custom[name];
        if (JSON.stringify(current) === JSON.stringify(value ?? undefined)) continue;
        if (this.policy.isImmutable(name) && current !== undefined && current !== null) continue; // set once, never changed
        if (value === null) delete custom[name];
        else custom[name] = value;
        changed.push(name);
      }
      if (!changed.length) return [];
      const expected = row.version;
      row.custom = custom;
      row.version = expected + 1;
      row.updatedAt = Date.now();
      if (await this.users.updateIfVersion(row, expected)) {
        this.audit.emit({ type: 'user.updated', userId, clientId: context.clientId, connectorId: context.connectorId, data: { via: 'transform', transforms: context.transforms, attributes: changed } });
        return changed;
      }
    }
    throw new Error('the account changed concurrently three times; account updates were not stored');
  }
}
