/**
 * The seam between the login pipeline and claim transforms: run the transforms bound to a
 * connector (and client) on an upstream identity. The sandboxed implementation is
 * TransformPipeline (transform-pipeline.ts); `NoTransforms` serves builds and tests without any.
 */
import type { UpstreamIdentity } from '../connectors/connector.js';
import type { Account } from '../users/account-attributes.js';

export interface TransformInputContext {
  connector: { id: string; type: string; name: string };
  client: { id: string; name?: string };
  identity: UpstreamIdentity;
  account: Account;
}

export type TransformOutcome =
  | {
      kind: 'claims';
      claims: Record<string, unknown>;
      /** claim → `transform:<file>:<line>` */
      origins: Record<string, string>;
      accountUpdates?: Record<string, unknown>;
      /** Highest risk score a transform of the chain returned (0..100). */
      risk?: number;
      riskReasons?: string[];
      /** The chain that ran, in order. */
      transforms?: string[];
    }
  | { kind: 'deny'; reason: string; transform: string }
  | {
      kind: 'failed';
      transform: string;
      message: string;
      /** Failure kind: error, cpu_timeout, memory_limit, wall_timeout, never_settled, invalid_output… */
      reason?: string;
      file?: string;
      line?: number;
      column?: number;
    };

/** Injection token of the TransformRunner. */
export const TRANSFORM_RUNNER = Symbol('TRANSFORM_RUNNER');

export interface TransformRunner {
  /** Runs the chain `names` (a connector's transforms; per-client bindings are applied on top). */
  run(names: string[], input: TransformInputContext): Promise<TransformOutcome>;
}

export class NoTransforms implements TransformRunner {
  async run(names: string[]): Promise<TransformOutcome> {
    if (names.length) return { kind: 'failed', transform: names[0]!, message: 'transforms are not available in this build' };
    return { kind: 'claims', claims: {}, origins: {} };
  }
}
