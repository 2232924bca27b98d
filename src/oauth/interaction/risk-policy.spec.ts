import { AuditService } from '../../audit/audit.service.js';
import type { UpstreamIdentity } from '../../connectors/connector.js';
import { riskConfigSchema } from '../../transforms/transforms.config.js';
import { ThresholdRiskPolicy, type RiskInput } from './risk-policy.js';

const identity = (amr: string[] = ['pwd']): UpstreamIdentity => ({ subject: 's', attributes: {}, amr, protocol: { kind: 'oidc', issuer: 'i', idToken: {}, userinfo: {} } });
const input = (score: number | undefined, amr?: string[]): RiskInput => ({ score, identity: identity(amr), claims: {}, clientId: 'web', connectorId: 'corp', userId: 'u1' });

describe('risk policy thresholds', () => {
  const events: Array<{ type: string; data?: Record<string, unknown> | null }> = [];
  const audit = new AuditService(null, { log: false, database: false });
  audit.onEvent((e) => events.push(e));
  const policy = new ThresholdRiskPolicy(riskConfigSchema.parse({ stepUpAt: 50, denyAt: 90 }), audit);

  test.each([
    [10, ['pwd'], 'allow'],
    [49.9, ['pwd'], 'allow'],
    [50, ['pwd'], 'step_up'],
    [75, ['pwd', 'mfa'], 'allow'],
    [75, ['otp'], 'allow'],
    [90, ['pwd', 'mfa'], 'deny'],
    [100, ['hwk'], 'deny'],
  ])('score %s with amr %j → %s', async (score, amr, decision) => {
    expect(await policy.evaluate(input(score, amr))).toBe(decision);
    expect(events.at(-1)).toMatchObject({ type: 'risk.evaluated', data: { decision, score } });
  });

  test('no score and no endpoint: allowed without an audit event', async () => {
    const before = events.length;
    expect(await policy.evaluate(input(undefined))).toBe('allow');
    expect(events).toHaveLength(before);
  });

  test('without thresholds a score is audited and allowed', async () => {
    const lenient = new ThresholdRiskPolicy(riskConfigSchema.parse({}), audit);
    expect(await lenient.evaluate(input(99))).toBe('allow');
    expect(events.at(-1)?.data).toMatchObject({ decision: 'allow', score: 99, thresholds: { stepUpAt: null, denyAt: null } });
  });

  test('an unreachable endpoint follows onError', async () => {
    const closed = new ThresholdRiskPolicy(riskConfigSchema.parse({ endpoint: 'http://127.0.0.1:1/score', timeoutMs: 500 }), audit);
    expect(await closed.evaluate(input(0))).toBe('deny');
    const open = new ThresholdRiskPolicy(riskConfigSchema.parse({ endpoint: 'http://127.0.0.1:1/score', timeoutMs: 500, onError: 'allow' }), audit);
    expect(await open.evaluate(input(0))).toBe('allow');
    expect(events.at(-1)?.data).toMatchObject({ endpointError: 'unreachable or malformed answer' });
  });
});
