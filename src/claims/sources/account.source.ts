import type { ClaimRequest, ClaimSource, ClaimValue, ResolvedClaimSpec } from '../claim-source.js';
import { readAccountAttribute, type AccountReader } from '../../users/account-attributes.js';

/** Values from the user's Herald account (SCIM core, enterprise extension, Herald extension). */
export class AccountClaimSource implements ClaimSource {
  readonly name = 'account' as const;

  constructor(private readonly accounts: AccountReader) {}

  async resolve(spec: ResolvedClaimSpec, request: ClaimRequest, memo: Map<string, unknown>): Promise<ClaimValue | undefined> {
    if (!request.accountId) return undefined;
    const key = `account:${request.accountId}`;
    if (!memo.has(key)) memo.set(key, await this.accounts.findById(request.accountId));
    const account = memo.get(key) as Awaited<ReturnType<AccountReader['findById']>>;
    if (!account) return undefined;
    const found = readAccountAttribute(account, spec.attribute);
    if (!found) return undefined;
    return { value: found.value, origin: `account:${found.path}` };
  }
}
