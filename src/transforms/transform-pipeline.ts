/**
 * The TransformRunner Herald uses: resolves the chain for (connector, client), builds the frozen
 * JSON input, runs each transform in its sandbox in order and merges what they return.
 *
 * Chain semantics: each transform sees the claims of the ones before it (`input.claims`); a later
 * transform's claim or account update replaces an earlier one of the same name; the risk score is
 * the highest returned; the first denial or failure ends the chain.
 */
import type { AuditService } from '../audit/audit.service.js';
import type { UpstreamIdentity } from '../connectors/connector.js';
import type { Account } from '../users/account-attributes.js';
import type { AccountUpdatePolicy } from './account-updates.js';
import { displayPath } from './transform-errors.js';
import { scrubSecrets } from './secret-scrubber.js';
import type { TransformRegistry } from './transform-registry.service.js';
import type { TransformInputContext, TransformOutcome, TransformRunner } from './transform-runner.js';
import type { RunOverrides } from './sandbox/sandbox-types.js';
import type { TransformBindingConfig } from './transforms.config.js';

/** Upstream kind (`protocol.kind`) a connector type produces. */
export const UPSTREAM_KIND_OF_CONNECTOR: Readonly<Record<string, string>> = { dev: 'oidc', oidc: 'oidc', saml: 'saml', openid4vp: 'wallet' };

export interface TransformLogEntry {
  transform: string;
  message: string;
  data: unknown;
}

export interface EvaluatedChain {
  outcome: TransformOutcome;
  logs: TransformLogEntry[];
  runs: Array<{ transform: string; ms: number; ok: boolean }>;
}

/** The JSON a transform receives (`TransformInput` of the SDK, without `claims`). */
export function transformInputOf(context: TransformInputContext): Record<string, unknown> {
  return {
    upstream: upstreamInput(context.identity),
    account: accountInput(context.account),
    connector: { id: context.connector.id, type: context.connector.type, name: context.connector.name },
    client: { id: context.client.id, ...(context.client.name ? { name: context.client.name } : {}) },
  };
}

function upstreamInput(identity: UpstreamIdentity): Record<string, unknown> {
  // Connector-private data (`identity.private`) never reaches a transform.
  return {
    subject: identity.subject,
    email: identity.email,
    emailVerified: identity.emailVerified,
    name: identity.name,
    givenName: identity.givenName,
    familyName: identity.familyName,
    attributes: identity.attributes ?? {},
    amr: identity.amr ?? [],
    acr: identity.acr,
    authTime: identity.authTime,
    protocol: identity.protocol,
  };
}

function accountInput(account: Account): Record<string, unknown> {
  return {
    id: account.id,
    userName: account.userName,
    externalId: account.externalId,
    email: account.email,
    emailVerified: account.emailVerified,
    core: account.core,
    enterprise: account.enterprise,
    custom: account.custom,
  };
}

export class TransformPipeline implements TransformRunner {
  constructor(
    private readonly registry: TransformRegistry,
    private readonly options: { bindings: TransformBindingConfig[]; accountUpdates: AccountUpdatePolicy; audit?: AuditService },
  ) {}

  /** The connector's chain with the client's bindings applied, in order. */
  chainFor(connectorTransforms: readonly string[], connectorId: string, clientId: string): string[] {
    let chain = [...connectorTransforms];
    for (const binding of this.options.bindings) {
      if (binding.client !== clientId) continue;
      if (binding.connectors && !binding.connectors.includes(connectorId)) continue;
      chain = binding.mode === 'replace' ? [...binding.transforms] : [...chain, ...binding.transforms];
    }
    return chain;
  }

  async run(names: string[], context: TransformInputContext): Promise<TransformOutcome> {
    const chain = this.chainFor(names, context.connector.id, context.client.id);
    if (!chain.length) return { kind: 'claims', claims: {}, origins: {}, transforms: [] };
    const { outcome, logs } = await this.evaluate(chain, transformInputOf(context));
    for (const log of logs) {
      this.options.audit?.emit({
        type: 'transform.logged',
        userId: context.account.id,
        clientId: context.client.id,
        connectorId: context.connector.id,
        data: { transform: log.transform, message: log.message, data: log.data },
      });
    }
    return outcome;
  }

  /** Runs `chain` on `input` without side effects (explain, fixtures and `run` use it directly). */
  async evaluate(chain: string[], input: Record<string, unknown>, overrides?: RunOverrides): Promise<EvaluatedChain> {
    const claims: Record<string, unknown> = {};
    const origins: Record<string, string> = {};
    const accountUpdates: Record<string, unknown> = {};
    let risk: number | undefined;
    const riskReasons: string[] = [];
    const logs: TransformLogEntry[] = [];
    const runs: EvaluatedChain['runs'] = [];
    const kind = (input.upstream as { protocol?: { kind?: string } } | undefined)?.protocol?.kind;
    for (const name of chain) {
      const loaded = this.registry.get(name);
      if (!loaded) return { outcome: { kind: 'failed', transform: name, reason: 'unknown_transform', message: `no transform named "${name}" is loaded` }, logs, runs };
      const file = displayPath(loaded.compiled.file);
      if (loaded.protocols && kind && !loaded.protocols.includes(kind)) {
        return {
          outcome: { kind: 'failed', transform: name, reason: 'protocol_mismatch', file, message: `written for ${loaded.protocols.join('/')} sign-ins, this one is ${kind}` },
          logs,
          runs,
        };
      }
      const result = await loaded.runtime.run({ ...input, claims }, overrides);
      runs.push({ transform: name, ms: result.ms, ok: result.ok });
      for (const line of result.logs) logs.push({ transform: name, ...line });
      if (!result.ok) {
        const e = result.error;
        return { outcome: { kind: 'failed', transform: name, reason: e.kind, message: e.message, file: e.file, line: e.line, column: e.column }, logs, runs };
      }
      const output = result.output;
      if (output.kind === 'deny') return { outcome: { kind: 'deny', reason: output.reason, transform: name }, logs, runs };
      if (output.accountUpdates) {
        const problem = this.options.accountUpdates.check(output.accountUpdates);
        if (problem) {
          const secrets = overrides?.secrets ? Object.values(overrides.secrets) : loaded.runtime.secretValues;
          return { outcome: { kind: 'failed', transform: name, reason: 'invalid_output', file, message: scrubSecrets(problem, secrets) }, logs, runs };
        }
        Object.assign(accountUpdates, output.accountUpdates);
      }
      for (const [claim, value] of Object.entries(output.claims)) {
        // Own data properties only: `claims` was validated to carry no __proto__/constructor keys.
        Object.defineProperty(claims, claim, { value, enumerable: true, writable: true, configurable: true });
        origins[claim] = `transform:${file}:${loaded.lines.claims[claim] ?? loaded.lines.runLine}`;
      }
      if (output.risk) {
        risk = Math.max(risk ?? 0, output.risk.score);
        riskReasons.push(...(output.risk.reasons ?? []));
      }
    }
    return {
      outcome: {
        kind: 'claims',
        claims,
        origins,
        transforms: chain,
        ...(Object.keys(accountUpdates).length ? { accountUpdates } : {}),
        ...(risk !== undefined ? { risk, riskReasons } : {}),
      },
      logs,
      runs,
    };
  }
}
