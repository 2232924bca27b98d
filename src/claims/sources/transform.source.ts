import type { ClaimRequest, ClaimSource, ClaimValue, ResolvedClaimSpec } from '../claim-source.js';

/** The claims that the transforms of the user's last sign-in produced, kept per (user, client). */
export interface ClaimSnapshot {
  claims: Record<string, unknown>;
  /** claim name → origin (`transform:<file>:<line>`). */
  origins: Record<string, string>;
}

export interface ClaimSnapshotReader {
  get(accountId: string, clientId: string): Promise<ClaimSnapshot | undefined>;
}

export class TransformClaimSource implements ClaimSource {
  readonly name = 'transform' as const;

  constructor(private readonly snapshots: ClaimSnapshotReader) {}

  async resolve(spec: ResolvedClaimSpec, request: ClaimRequest, memo: Map<string, unknown>): Promise<ClaimValue | undefined> {
    if (!request.accountId) return undefined;
    const key = `snapshot:${request.accountId}:${request.clientId}`;
    if (!memo.has(key)) memo.set(key, await this.snapshots.get(request.accountId, request.clientId));
    const snapshot = memo.get(key) as ClaimSnapshot | undefined;
    if (!snapshot || !Object.hasOwn(snapshot.claims, spec.attribute)) return undefined;
    return { value: snapshot.claims[spec.attribute], origin: snapshot.origins[spec.attribute] ?? 'transform' };
  }
}
