/**
 * Claim sources: where the value of a claim listed under a scope comes from. The registry is
 * an explicit map from source name to implementation; ClaimsService asks them in order.
 */
import type { ClaimSpec } from '../config/config.schema.js';

export type ClaimSourceName = 'transform' | 'account' | 'static' | 'provider';

/** The token being shaped. */
export interface ClaimRequest {
  clientId: string;
  /** Herald user id; absent for client-credentials tokens. */
  accountId?: string;
  /** Granted scopes of the token. */
  scopes: string[];
  /** Audience (API identifier), when the token is for an API. */
  audience?: string;
  grantId?: string;
}

/** A normalized claim spec: every field filled. */
export interface ResolvedClaimSpec {
  name: string;
  /** Sources to try, in order; the first that has a value wins. */
  from: ClaimSourceName[];
  attribute: string;
  value?: unknown;
  provider?: string;
  required: boolean;
}

export interface ClaimValue {
  value: unknown;
  /** Human-readable origin for `herald explain`, e.g. `account:custom.userId`, `transform:roles.ts:12`. */
  origin: string;
}

export interface ClaimSource {
  readonly name: ClaimSourceName;
  /** Returns undefined when this source has no value for the claim. Per-token memo in `memo`. */
  resolve(spec: ResolvedClaimSpec, request: ClaimRequest, memo: Map<string, unknown>): Promise<ClaimValue | undefined>;
}

/** The documented default order for claims listed by name only. */
export const DEFAULT_SOURCE_ORDER: ClaimSourceName[] = ['transform', 'account'];

export function normalizeClaimSpec(spec: ClaimSpec): ResolvedClaimSpec {
  if (typeof spec === 'string') {
    return { name: spec, from: DEFAULT_SOURCE_ORDER, attribute: spec, required: false };
  }
  const from: ClaimSourceName[] = spec.from ? [spec.from] : spec.value !== undefined ? ['static'] : DEFAULT_SOURCE_ORDER;
  return {
    name: spec.name,
    from,
    attribute: spec.attribute ?? spec.name,
    value: spec.value,
    provider: spec.provider,
    required: spec.required ?? false,
  };
}
