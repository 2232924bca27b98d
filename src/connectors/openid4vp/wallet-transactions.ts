/**
 * Wallet transactions in Herald's flow-state table, so that any instance can serve the
 * request_uri, take the wallet's direct_post and hand the result to the browser.
 *
 * Every identifier has one audience and is a separate random value, so knowing one reveals
 * nothing about another:
 * - `id`          the browser page only (polling); ≥ 256 bits.
 * - `requestId`   the link / QR code (request_uri).
 * - `responseId`  the request object (response_uri).
 * - response code the wallet's redirect_uri (same-device) or the poll answer (cross-device);
 *                 single use, and it only leads to /interaction/<uid>/continue, where
 *                 oidc-provider's interaction cookie must still match.
 * The response_uri accepts one answer per transaction (a claim in the expiring-keys table,
 * atomic across instances).
 */
import { randomBytes } from 'node:crypto';
import type { FlowStateStore, ReplayGuard, UpstreamIdentity } from '../connector.js';

export type WalletFlow = 'same_device' | 'cross_device';

export interface WalletTransaction {
  id: string;
  flow: WalletFlow;
  interactionId: string;
  /** The same-device transaction offered on the same page as this cross-device one. */
  sibling?: string;
  requestId: string;
  responseId: string;
  state: string;
  nonce: string;
  /** Full client identifier of the request (prefix included). */
  clientId: string;
  /** The request parameters as sent. */
  request: Record<string, unknown>;
  deepLink: string;
  /** Request object served at the request_uri (by-reference requests). */
  requestObject?: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Set once the wallet answered. */
  done?: { code: string; failed: boolean };
}

export type WalletOutcome =
  | { kind: 'verified'; interactionId: string; identity: UpstreamIdentity }
  | { kind: 'rejected'; interactionId: string; check: string; detail: string; denied: boolean };

/** Random URL-safe value of `bytes` bytes. */
export const random = (bytes: number) => randomBytes(bytes).toString('base64url');

const RESULT_GRACE_MS = 60_000;

export class WalletTransactions {
  constructor(
    private readonly state: FlowStateStore,
    private readonly replay: ReplayGuard,
  ) {}

  async save(tx: WalletTransaction): Promise<void> {
    const ttl = ttlSeconds(tx.expiresAt);
    await this.state.put(`tx:${tx.id}`, tx as unknown as Record<string, unknown>, ttl);
    await this.state.put(`req:${tx.requestId}`, { tx: tx.id }, ttl);
    await this.state.put(`resp:${tx.responseId}`, { tx: tx.id }, ttl);
  }

  async get(id: unknown): Promise<WalletTransaction | undefined> {
    if (typeof id !== 'string' || !id || id.length > 128) return undefined;
    const tx = (await this.state.peek(`tx:${id}`)) as WalletTransaction | undefined;
    return tx && tx.expiresAt > Date.now() ? tx : undefined;
  }

  async byRequestId(requestId: unknown): Promise<WalletTransaction | undefined> {
    return this.viaIndex('req', requestId);
  }

  async byResponseId(responseId: unknown): Promise<WalletTransaction | undefined> {
    return this.viaIndex('resp', responseId);
  }

  /** True for the first caller only, on any instance: one answer per response_uri. */
  async claimResponse(tx: WalletTransaction): Promise<boolean> {
    return this.replay(`resp:${tx.responseId}`, tx.expiresAt + RESULT_GRACE_MS);
  }

  /** True the first time a presentation is seen (until `untilMs`): a vp_token is accepted once. */
  async claimPresentation(digest: string, untilMs: number): Promise<boolean> {
    return this.replay(`vp:${digest}`, untilMs);
  }

  /** Stores the outcome under a fresh response code and marks the transaction answered. */
  async finish(tx: WalletTransaction, outcome: WalletOutcome): Promise<string> {
    const code = random(32);
    await this.state.put(`code:${code}`, outcome as unknown as Record<string, unknown>, ttlSeconds(tx.expiresAt + RESULT_GRACE_MS));
    await this.state.update(`tx:${tx.id}`, { ...tx, done: { code, failed: outcome.kind === 'rejected' } } as unknown as Record<string, unknown>);
    return code;
  }

  /** The outcome behind a response code, once. */
  async takeOutcome(code: unknown): Promise<WalletOutcome | undefined> {
    if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{20,128}$/.test(code)) return undefined;
    return (await this.state.take(`code:${code}`)) as WalletOutcome | undefined;
  }

  private async viaIndex(kind: 'req' | 'resp', key: unknown): Promise<WalletTransaction | undefined> {
    if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(key)) return undefined;
    const index = await this.state.peek(`${kind}:${key}`);
    return typeof index?.tx === 'string' ? this.get(index.tx) : undefined;
  }
}

function ttlSeconds(untilMs: number): number {
  return Math.max(1, Math.ceil((untilMs - Date.now()) / 1000));
}
