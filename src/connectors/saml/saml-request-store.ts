/**
 * The requests this Herald issued (AuthnRequest, LogoutRequest), in the shared flow-state table,
 * so any instance can finish a sign-in another one started. It is also node-saml's
 * `cacheProvider`, which checks InResponseTo against it.
 *
 * Each AuthnRequest ID is bound to the interaction that issued it: the ACS finishes exactly that
 * interaction, and /interaction/<uid>/continue then requires that interaction's cookie, so a
 * response delivered into another browser cannot finish anybody's sign-in there.
 *
 * node-saml "removes" an ID after a success and after any failure; here that marks the entry
 * answered instead of deleting it, so a second response to the same request is named a replay
 * (until the entry expires) rather than an unknown request.
 */
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { FlowStateStore } from '../connector.js';

export interface PendingSamlRequest {
  kind: 'authn' | 'logout';
  /** ISO instant node-saml stored (it rejects a request older than requestIdExpirationPeriodMs). */
  issueInstant: string;
  /** The interaction an AuthnRequest was issued for. */
  interactionId?: string;
  /** Where to send the browser after a LogoutResponse. */
  returnTo?: string;
  answered?: boolean;
}

/** Request IDs are ours (`_` + 40 hex); anything much longer is not worth a database lookup. */
const PLAUSIBLE_ID = /^[A-Za-z_][\w.-]{0,127}$/;

export class SamlRequestStore {
  constructor(
    private readonly state: FlowStateStore,
    private readonly ttlSeconds: number,
  ) {}

  private key(id: string): string {
    return `request:${id}`;
  }

  async lookup(id: string | null | undefined): Promise<PendingSamlRequest | undefined> {
    if (typeof id !== 'string' || !PLAUSIBLE_ID.test(id)) return undefined;
    return (await this.state.peek(this.key(id))) as PendingSamlRequest | undefined;
  }

  async markAnswered(id: string): Promise<void> {
    const pending = await this.lookup(id);
    if (pending && !pending.answered) await this.state.update(this.key(id), { ...pending, answered: true });
  }

  /** node-saml's view: new IDs are saved with `binding`; only unanswered IDs of `binding.kind` are valid. */
  cacheProvider(binding: Omit<PendingSamlRequest, 'issueInstant' | 'answered'>): CacheProvider {
    return {
      saveAsync: async (id: string, issueInstant: string): Promise<CacheItem | null> => {
        await this.state.put(this.key(id), { ...binding, issueInstant }, this.ttlSeconds);
        return { value: issueInstant, createdAt: Date.now() };
      },
      getAsync: async (id: string): Promise<string | null> => {
        const pending = await this.lookup(id);
        return pending && !pending.answered && pending.kind === binding.kind ? pending.issueInstant : null;
      },
      removeAsync: async (id: string | null): Promise<string | null> => {
        if (!id) return null;
        await this.markAnswered(id);
        return id;
      },
    };
  }
}
