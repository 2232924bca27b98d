/**
 * Reading account attributes by path for claims: `userId` (Herald extension first, then SCIM
 * core), `name.givenName`, `enterprise.department`, `custom.locations`, or a full SCIM URN
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`).
 */
import { standardClaims } from './standard-claims.js';

export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
/** Entra accepts custom attributes only under urn:ietf:params:scim:schemas:extension:<Name>:2.0:User. */
export const HERALD_EXTENSION_URN = 'urn:ietf:params:scim:schemas:extension:herald:2.0:User';

export interface Account {
  id: string;
  userName: string;
  externalId: string | null;
  active: boolean;
  email: string | null;
  emailVerified: boolean;
  core: Record<string, unknown>;
  enterprise: Record<string, unknown>;
  custom: Record<string, unknown>;
}

export interface AccountReader {
  findById(id: string): Promise<Account | undefined>;
}

function dig(root: unknown, path: string[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function readAccountAttribute(account: Account, path: string): { value: unknown; path: string } | undefined {
  const candidates: Array<[string, unknown, string[]]> = [];
  if (path.startsWith(`${ENTERPRISE_URN}:`)) candidates.push(['enterprise', account.enterprise, path.slice(ENTERPRISE_URN.length + 1).split('.')]);
  else if (path.startsWith(`${HERALD_EXTENSION_URN}:`)) candidates.push(['custom', account.custom, path.slice(HERALD_EXTENSION_URN.length + 1).split('.')]);
  else if (path.startsWith('enterprise.')) candidates.push(['enterprise', account.enterprise, path.slice(11).split('.')]);
  else if (path.startsWith('custom.')) candidates.push(['custom', account.custom, path.slice(7).split('.')]);
  else {
    const parts = path.split('.');
    candidates.push(['custom', account.custom, parts], ['core', account.core, parts]);
    const top: Record<string, unknown> = { userName: account.userName, externalId: account.externalId, active: account.active, id: account.id };
    candidates.push(['account', top, parts]);
  }
  for (const [section, root, parts] of candidates) {
    const value = dig(root, parts);
    if (value !== undefined && value !== null) return { value: structuredClone(value), path: `${section}.${parts.join('.')}` };
  }
  // OpenID Connect claim names (given_name, email…) map onto the SCIM-shaped account.
  const standard = standardClaims(account)[path];
  if (standard !== undefined) return { value: structuredClone(standard), path: `oidc.${path}` };
  return undefined;
}
