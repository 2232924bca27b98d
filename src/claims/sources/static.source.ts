import type { ClaimSource, ClaimValue, ResolvedClaimSpec } from '../claim-source.js';

/** A fixed value from config, the same in every token with the scope. */
export class StaticClaimSource implements ClaimSource {
  readonly name = 'static' as const;

  async resolve(spec: ResolvedClaimSpec): Promise<ClaimValue | undefined> {
    if (spec.value === undefined) return undefined;
    return { value: structuredClone(spec.value), origin: 'static' };
  }
}
