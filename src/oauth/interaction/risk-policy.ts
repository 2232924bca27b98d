/**
 * Risk decision for a sign-in. Transforms may return a score; config may name a risk endpoint
 * and thresholds (see transforms/risk). This interface is what the login pipeline calls.
 */
import type { UpstreamIdentity } from '../../connectors/connector.js';

export interface RiskInput {
  score?: number;
  identity: UpstreamIdentity;
  claims: Record<string, unknown>;
  clientId: string;
  connectorId: string;
  userId: string;
}

export type RiskDecision = 'allow' | 'deny' | 'step_up';

export interface RiskPolicy {
  evaluate(input: RiskInput): Promise<RiskDecision>;
}

/** Used when no risk thresholds are configured. */
export class AllowAllRisk implements RiskPolicy {
  async evaluate(): Promise<RiskDecision> {
    return 'allow';
  }
}
