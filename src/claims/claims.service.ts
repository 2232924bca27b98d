/**
 * Shapes the claims of a token: for every granted scope, the claims config lists, each filled by
 * the first claim source that has a value (documented order: transform output, then account,
 * unless the claim names its source). Reserved claims are never produced here.
 */
import type { HeraldConfig } from '../config/config.schema.js';
import { normalizeClaimSpec, type ClaimRequest, type ClaimSource, type ClaimSourceName, type ResolvedClaimSpec } from './claim-source.js';
import { RESERVED_CLAIMS } from './reserved-claims.js';

export class ClaimRequiredError extends Error {
  constructor(readonly claim: string) {
    super(`required claim "${claim}" has no value`);
    this.name = 'ClaimRequiredError';
  }
}

export interface ShapedClaims {
  claims: Record<string, unknown>;
  /** claim → where its value came from. */
  origins: Record<string, string>;
}

export class ClaimsService {
  private readonly specsByScope = new Map<string, ResolvedClaimSpec[]>();
  private readonly sources = new Map<ClaimSourceName, ClaimSource>();

  constructor(config: HeraldConfig, sources: ClaimSource[]) {
    for (const [scope, def] of Object.entries(config.scopes)) {
      this.specsByScope.set(
        scope,
        def.claims.map(normalizeClaimSpec).filter((spec) => !RESERVED_CLAIMS.has(spec.name)),
      );
    }
    for (const source of sources) this.sources.set(source.name, source);
  }

  /** Claim names a scope carries (for consent pages and discovery). */
  claimsOfScope(scope: string): string[] {
    return (this.specsByScope.get(scope) ?? []).map((spec) => spec.name);
  }

  /** True when no granted scope lists claims (the fast path for plain client-credentials tokens). */
  hasClaims(scopes: Iterable<string>): boolean {
    for (const scope of scopes) if (this.specsByScope.get(scope)?.length) return true;
    return false;
  }

  async shape(request: ClaimRequest): Promise<ShapedClaims> {
    const claims: Record<string, unknown> = {};
    const origins: Record<string, string> = {};
    const memo = new Map<string, unknown>();
    for (const scope of request.scopes) {
      for (const spec of this.specsByScope.get(scope) ?? []) {
        if (Object.hasOwn(claims, spec.name)) continue;
        for (const sourceName of spec.from) {
          const source = this.sources.get(sourceName);
          if (!source) continue;
          const found = await source.resolve(spec, request, memo);
          if (found !== undefined && found.value !== undefined) {
            claims[spec.name] = found.value;
            origins[spec.name] = found.origin;
            break;
          }
        }
        if (spec.required && !Object.hasOwn(claims, spec.name)) throw new ClaimRequiredError(spec.name);
      }
    }
    return { claims, origins };
  }
}
