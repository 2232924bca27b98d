/**
 * Risk decision for a sign-in. The score is the highest of what the transforms returned
 * (`risk: { score }`) and what the configured risk endpoint answers; `transforms.risk` thresholds
 * turn it into allow / step_up / deny. Every evaluation with a score or an endpoint is audited as
 * `risk.evaluated`. See docs/transforms.md ("Risk").
 */
import type { AuditService } from '../../audit/audit.service.js';
import type { UpstreamIdentity } from '../../connectors/connector.js';
import type { RiskConfig } from '../../transforms/transforms.config.js';

export interface RiskInput {
  /** Highest score the transforms returned (0..100). */
  score?: number;
  reasons?: string[];
  identity: UpstreamIdentity;
  claims: Record<string, unknown>;
  clientId: string;
  connectorId: string;
  userId: string;
}

/** step_up: the score asks for a second factor the upstream did not report (Herald refuses the sign-in for now). */
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

const MAX_RESPONSE_BYTES = 16 * 1024;

export class ThresholdRiskPolicy implements RiskPolicy {
  constructor(
    private readonly config: RiskConfig,
    private readonly audit: AuditService,
  ) {}

  async evaluate(input: RiskInput): Promise<RiskDecision> {
    const endpoint = this.config.endpoint ? await this.askEndpoint(input) : undefined;
    if (input.score === undefined && endpoint === undefined) return 'allow';
    const scores = [input.score, endpoint && 'score' in endpoint ? endpoint.score : undefined].filter((s): s is number => s !== undefined);
    const score = scores.length ? Math.max(...scores) : undefined;
    let decision: RiskDecision = 'allow';
    let why = 'below thresholds';
    if (endpoint && 'error' in endpoint && this.config.onError === 'deny') {
      decision = 'deny';
      why = `risk endpoint: ${endpoint.error}`;
    } else if (score !== undefined && this.config.denyAt !== undefined && score >= this.config.denyAt) {
      decision = 'deny';
      why = `score ${score} ≥ denyAt ${this.config.denyAt}`;
    } else if (score !== undefined && this.config.stepUpAt !== undefined && score >= this.config.stepUpAt) {
      const done = (input.identity.amr ?? []).filter((m) => this.config.secondFactorAmr.includes(m));
      decision = done.length ? 'allow' : 'step_up';
      why = done.length ? `score ${score} ≥ stepUpAt ${this.config.stepUpAt}, second factor done upstream (${done.join(', ')})` : `score ${score} ≥ stepUpAt ${this.config.stepUpAt}, no second factor`;
    }
    this.audit.emit({
      type: 'risk.evaluated',
      outcome: decision === 'allow' ? 'success' : 'failure',
      userId: input.userId,
      clientId: input.clientId,
      connectorId: input.connectorId,
      reason: decision === 'allow' ? null : `risk_${decision}`,
      data: {
        decision,
        score: score ?? null,
        transformScore: input.score ?? null,
        endpointScore: endpoint && 'score' in endpoint ? endpoint.score : null,
        endpointError: endpoint && 'error' in endpoint ? endpoint.error : undefined,
        reasons: input.reasons?.length ? input.reasons : undefined,
        thresholds: { stepUpAt: this.config.stepUpAt ?? null, denyAt: this.config.denyAt ?? null },
        why,
      },
    });
    return decision;
  }

  /** POSTs the identity and claims to the risk endpoint; never throws. */
  private async askEndpoint(input: RiskInput): Promise<{ score: number } | { error: string }> {
    const body = JSON.stringify({
      user_id: input.userId,
      client_id: input.clientId,
      connector_id: input.connectorId,
      transform_score: input.score ?? null,
      identity: {
        subject: input.identity.subject,
        kind: input.identity.protocol?.kind,
        email: input.identity.email,
        amr: input.identity.amr ?? [],
        acr: input.identity.acr,
        attributes: input.identity.attributes,
      },
      claims: input.claims,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.config.authorization) headers.authorization = this.config.authorization;
    try {
      const response = await fetch(this.config.endpoint!, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.timeoutMs) });
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel();
        return { error: `HTTP ${response.status}` };
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_RESPONSE_BYTES) {
          await response.body?.cancel().catch(() => undefined);
          return { error: 'response too large' };
        }
        chunks.push(chunk);
      }
      const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { score?: unknown };
      if (typeof parsed.score !== 'number' || !Number.isFinite(parsed.score) || parsed.score < 0 || parsed.score > 100) return { error: 'response has no score from 0 to 100' };
      return { score: parsed.score };
    } catch (error) {
      return { error: (error as Error)?.name === 'TimeoutError' ? `timed out after ${this.config.timeoutMs} ms` : 'unreachable or malformed answer' };
    }
  }
}
