/**
 * The seam between the login pipeline and claim transforms: run the transforms bound to a
 * connector (and client) on an upstream identity. The sandboxed implementation lives in
 * transforms/; `NoTransforms` serves connectors with none configured.
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
      risk?: number;
    }
  | { kind: 'deny'; reason: string; transform: string }
  | { kind: 'failed'; transform: string; message: string; file?: string; line?: number; column?: number };

/** Injection token of the TransformRunner. */
export const TRANSFORM_RUNNER = Symbol('TRANSFORM_RUNNER');

export interface TransformRunner {
  run(names: string[], input: TransformInputContext): Promise<TransformOutcome>;
}

export class NoTransforms implements TransformRunner {
  async run(names: string[]): Promise<TransformOutcome> {
    if (names.length) return { kind: 'failed', transform: names[0]!, message: 'transforms are not available in this build' };
    return { kind: 'claims', claims: {}, origins: {} };
  }
}
