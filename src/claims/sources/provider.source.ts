/**
 * Claim values from external HTTP APIs (claimProviders), asked when a token is issued. One call
 * per provider per token (memoized), answers cached per URL for cacheTtlSeconds, and a failure
 * mode per provider:
 * - `fail`:  the token is not issued; the token endpoint answers temporarily_unavailable;
 * - `omit`:  the provider's claims are left out;
 * - `stale`: the last good answer (kept in the database) if it is younger than staleSeconds, else omitted.
 * Every failure is audited as `claims.provider_failed`.
 */
import { createHash } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { AuditService } from '../../audit/audit.service.js';
import { readAccountAttribute, type Account, type AccountReader } from '../../users/account-attributes.js';
import type { ClaimProviderConfig } from '../claim-provider.config.js';
import { ClaimProviderCallError, ClaimProviderClient, renderUrl, type Fetch } from '../claim-provider.client.js';
import type { ClaimProviderStore } from '../claim-provider.store.js';
import type { ClaimRequest, ClaimSource, ClaimValue, ResolvedClaimSpec } from '../claim-source.js';

/**
 * Thrown from token shaping when a `fail` provider is down. It is an oidc-provider error, so the
 * token endpoint answers `400 {"error":"temporarily_unavailable"}` instead of a 500
 * server_error. 400, not 503: RFC 6749 §5.2 error responses are 400, and clients (openid-client,
 * oauth4webapi) only read the OAuth error of a 4xx answer.
 */
export class ClaimProviderUnavailableError extends errors.TemporarilyUnavailable {
  constructor(readonly provider: string) {
    super('a service needed to issue this token is temporarily unavailable; retry later');
  }
}

interface ProviderAnswer {
  values: Record<string, unknown>;
  stale: boolean;
}

interface CacheEntry {
  values: Record<string, unknown>;
  fetchedAt: number;
  userId: string | null;
}

const MAX_CACHE_ENTRIES = 10_000;

export class ProviderClaimSource implements ClaimSource {
  readonly name = 'provider' as const;
  private readonly clients = new Map<string, ClaimProviderClient>();
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    providers: ClaimProviderConfig[],
    private readonly accounts: AccountReader,
    private readonly store: ClaimProviderStore,
    private readonly audit: AuditService,
    fetchImpl?: Fetch,
  ) {
    for (const provider of providers) this.clients.set(provider.id, new ClaimProviderClient(provider, fetchImpl));
  }

  async resolve(spec: ResolvedClaimSpec, request: ClaimRequest, memo: Map<string, unknown>): Promise<ClaimValue | undefined> {
    const client = spec.provider ? this.clients.get(spec.provider) : undefined;
    if (!client) return undefined;
    const key = `provider:${client.config.id}`;
    if (!memo.has(key)) memo.set(key, this.answer(client, request, memo));
    const answer = (await memo.get(key)) as ProviderAnswer | undefined;
    if (!answer || !Object.hasOwn(answer.values, spec.attribute)) return undefined;
    return { value: structuredClone(answer.values[spec.attribute]), origin: `provider:${client.config.id}${answer.stale ? ' (stale)' : ''}` };
  }

  /** Drops cached answers about a user (after an erasure). */
  forgetUser(userId: string): void {
    for (const [key, entry] of this.cache) if (entry.userId === userId) this.cache.delete(key);
  }

  private async account(request: ClaimRequest, memo: Map<string, unknown>): Promise<Account | undefined> {
    if (!request.accountId) return undefined;
    // Same memo key as the account source: one account read per token.
    const key = `account:${request.accountId}`;
    if (!memo.has(key)) memo.set(key, await this.accounts.findById(request.accountId));
    return memo.get(key) as Account | undefined;
  }

  private async answer(client: ClaimProviderClient, request: ClaimRequest, memo: Map<string, unknown>): Promise<ProviderAnswer | undefined> {
    const config = client.config;
    const account = await this.account(request, memo);
    const url = renderUrl(config.url, {
      sub: request.accountId,
      clientId: request.clientId,
      account: (path) => (account ? readAccountAttribute(account, path)?.value : undefined),
    });
    if (!url) return undefined; // e.g. a client-credentials token, or a user without the attribute
    const cacheKey = createHash('sha256').update(url).digest('hex');
    const memoryKey = `${config.id}:${cacheKey}`;
    const cached = this.cache.get(memoryKey);
    const now = Date.now();
    if (cached && config.cacheTtlSeconds > 0 && now - cached.fetchedAt < config.cacheTtlSeconds * 1000) return { values: cached.values, stale: false };

    try {
      const values = await client.call(url);
      this.remember(memoryKey, { values, fetchedAt: now, userId: request.accountId ?? null });
      if (config.onFailure === 'stale') await this.store.put(config.id, cacheKey, request.accountId ?? null, values, now);
      return { values, stale: false };
    } catch (error) {
      if (!(error instanceof ClaimProviderCallError)) throw error;
      return this.failed(config, request, error, memoryKey, cacheKey);
    }
  }

  private async failed(config: ClaimProviderConfig, request: ClaimRequest, error: ClaimProviderCallError, memoryKey: string, cacheKey: string): Promise<ProviderAnswer | undefined> {
    let outcome: 'failed' | 'omitted' | 'stale';
    let answer: ProviderAnswer | undefined;
    if (config.onFailure === 'fail') outcome = 'failed';
    else if (config.onFailure === 'stale') {
      const memory = this.cache.get(memoryKey);
      const stored = await this.store.get(config.id, cacheKey).catch(() => undefined);
      const last = [memory, stored].filter((v) => !!v).sort((a, b) => b!.fetchedAt - a!.fetchedAt)[0];
      if (last && Date.now() - last.fetchedAt <= config.staleSeconds * 1000) {
        outcome = 'stale';
        answer = { values: last.values, stale: true };
      } else outcome = 'omitted';
    } else outcome = 'omitted';
    this.audit.emit({
      type: 'claims.provider_failed',
      userId: request.accountId ?? null,
      clientId: request.clientId,
      reason: error.reason,
      data: { provider: config.id, mode: config.onFailure, outcome, detail: error.message.slice(0, 300) },
    });
    if (outcome === 'failed') throw new ClaimProviderUnavailableError(config.id);
    return answer;
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.cache.size >= MAX_CACHE_ENTRIES && !this.cache.has(key)) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(key);
    this.cache.set(key, entry);
  }
}
