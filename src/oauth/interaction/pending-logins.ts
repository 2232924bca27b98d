/**
 * Hand-over from a connector's route (where the upstream answered) to the interaction route
 * (where the browser's interaction cookie proves it is the browser that started the sign-in).
 * The outcome is stored under a random key bound to the interaction id and taken exactly once.
 */
import { randomBytes } from 'node:crypto';
import type { UpstreamIdentity } from '../../connectors/connector.js';
import type { FlowStateStore } from '../../connectors/connector.js';

const TTL_SECONDS = 300;

export type PendingOutcome =
  | { kind: 'identity'; interactionId: string; connectorId: string; identity: UpstreamIdentity }
  | { kind: 'failure'; interactionId: string; connectorId: string; oauthError: string; message: string; reason: string };

export class PendingLogins {
  constructor(private readonly store: FlowStateStore) {}

  async stash(outcome: PendingOutcome): Promise<string> {
    const key = randomBytes(24).toString('base64url');
    await this.store.put(key, outcome as unknown as Record<string, unknown>, TTL_SECONDS);
    return key;
  }

  /** Takes the outcome if it exists and belongs to this interaction. */
  async take(key: string, interactionId: string): Promise<PendingOutcome | undefined> {
    const value = (await this.store.take(key)) as unknown as PendingOutcome | undefined;
    if (!value || value.interactionId !== interactionId) return undefined;
    return value;
  }
}
