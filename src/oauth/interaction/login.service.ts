/**
 * The brokered sign-in pipeline after an upstream answered: account resolution, transforms,
 * risk policy, claim snapshot, audit — then the oidc-provider login result.
 */
import type { HeraldConfig } from '../../config/config.schema.js';
import type { AuditService } from '../../audit/audit.service.js';
import { ConnectorError, type Connector, type UpstreamIdentity } from '../../connectors/connector.js';
import type { ClaimSnapshotStore } from '../../claims/claim-snapshot.store.js';
import { AccountInactiveError, type AccountLinker } from '../../users/account-linker.js';
import type { TransformRunner } from '../../transforms/transform-runner.js';
import type { Account } from '../../users/account-attributes.js';
import type { RiskPolicy } from './risk-policy.js';

/**
 * Optional collaborators of the transform step (wired in oauth.module.ts): applying account
 * updates, remembering the upstream identity, and finding connectors for SSO resumption.
 */
export interface LoginTransformSupport {
  /** Stores a transform chain's `accountUpdates` on the account (validated, audited `user.updated`). */
  applyAccountUpdates?(userId: string, updates: Record<string, unknown>, context: { clientId: string; connectorId: string; transforms: string[] }): Promise<unknown>;
  /** Keeps the identity of a successful sign-in for SSO to other clients. */
  rememberIdentity?(connectorId: string, identity: UpstreamIdentity): Promise<void>;
  /** The user's last upstream identity, and whether (user, client) has claims from after it. */
  lastIdentity?(userId: string): Promise<{ connectorId: string; identity: UpstreamIdentity; at: number } | undefined>;
  snapshotWrittenAt?(userId: string, clientId: string): Promise<number | undefined>;
  findConnector?(id: string): Connector | undefined;
  findAccount?(id: string): Promise<Account | undefined>;
}

export interface LoginSuccess {
  ok: true;
  accountId: string;
  amr: string[];
  acr?: string;
  authTime: number;
}

export interface LoginFailure {
  ok: false;
  oauthError: 'access_denied' | 'temporarily_unavailable' | 'server_error';
  /** Shown to the user: generic, no internals. */
  message: string;
}

export type LoginOutcome = LoginSuccess | LoginFailure;

export class LoginService {
  constructor(
    private readonly config: HeraldConfig,
    private readonly accounts: AccountLinker,
    private readonly transforms: TransformRunner,
    private readonly snapshots: ClaimSnapshotStore,
    private readonly audit: AuditService,
    private readonly risk: RiskPolicy,
    private readonly support: LoginTransformSupport = {},
  ) {}

  async complete(connector: Connector, identity: UpstreamIdentity, clientId: string): Promise<LoginOutcome> {
    const client = this.config.clients.find((c) => c.id === clientId);
    if (!client || (client.connectors && !client.connectors.includes(connector.id))) {
      return this.failed(connector.id, clientId, undefined, 'connector_not_allowed', 'access_denied', 'This sign-in method is not allowed for the application.');
    }

    let resolved;
    try {
      resolved = await this.accounts.resolve(connector.id, identity, clientId);
    } catch (error) {
      return this.failed(connector.id, clientId, undefined, 'account_resolution_failed', 'server_error', 'Your account could not be prepared. Please try again later.', String(error));
    }
    const { account } = resolved;
    if (!account.active) {
      return this.failed(connector.id, clientId, account.id, 'account_inactive', 'access_denied', 'Your account is deactivated.', undefined, 'login.denied');
    }

    const step = await this.applyTransforms(connector, identity, client, account);
    if (!step.ok) return step;
    await this.support.rememberIdentity?.(connector.id, identity).catch(() => undefined);

    const amr = identity.amr?.length ? identity.amr : [connector.type];
    this.audit.emit({
      type: 'login.succeeded',
      userId: account.id,
      clientId,
      connectorId: connector.id,
      data: { amr, acr: identity.acr, account: resolved.linked, risk: step.risk },
    });
    return { ok: true, accountId: account.id, amr, acr: identity.acr, authTime: identity.authTime ?? Math.floor(Date.now() / 1000) };
  }

  /**
   * SSO: the browser session signs in to `clientId` without a login step, so this client's
   * transforms have not run on the session's sign-in. Runs them on the last upstream identity
   * (unless this client's claims are already from after it).
   */
  async resumeForClient(accountId: string | undefined, clientId: string): Promise<LoginSuccess | LoginFailure> {
    const client = this.config.clients.find((c) => c.id === clientId);
    if (!accountId || !client || !this.support.lastIdentity || !this.support.findConnector || !this.support.findAccount) {
      return { ok: true, accountId: accountId ?? '', amr: [], authTime: 0 };
    }
    const last = await this.support.lastIdentity(accountId);
    const connector = last ? this.support.findConnector(last.connectorId) : undefined;
    if (!last || !connector) {
      // Nothing to run the transforms on; claims come from the account (and any earlier snapshot).
      return { ok: true, accountId, amr: [], authTime: 0 };
    }
    if (client.connectors && !client.connectors.includes(connector.id)) {
      return this.failed(connector.id, clientId, accountId, 'connector_not_allowed', 'access_denied', 'This sign-in method is not allowed for the application.');
    }
    const written = await this.support.snapshotWrittenAt?.(accountId, clientId);
    if (written !== undefined && written >= last.at) return { ok: true, accountId, amr: [], authTime: 0 };
    const account = await this.support.findAccount(accountId);
    if (!account || !account.active) {
      return this.failed(connector.id, clientId, accountId, 'account_inactive', 'access_denied', 'Your account is deactivated.', undefined, 'login.denied');
    }
    const step = await this.applyTransforms(connector, last.identity, client, account);
    if (!step.ok) return step;
    return { ok: true, accountId, amr: [], authTime: 0 };
  }

  /** Transforms → risk → account updates → claim snapshot, for one (identity, client). */
  private async applyTransforms(
    connector: Connector,
    identity: UpstreamIdentity,
    client: { id: string; name?: string },
    account: Account,
  ): Promise<{ ok: true; risk?: number } | LoginFailure> {
    const clientId = client.id;
    const outcome = await this.transforms.run(connector.transforms, {
      connector: { id: connector.id, type: connector.type, name: connector.name },
      client: { id: client.id, name: client.name },
      identity,
      account,
    });
    if (outcome.kind === 'failed') {
      this.audit.emit({
        type: 'transform.failed',
        userId: account.id,
        clientId,
        connectorId: connector.id,
        reason: 'transform_failed',
        data: { transform: outcome.transform, kind: outcome.reason, file: outcome.file, line: outcome.line, column: outcome.column, message: outcome.message },
      });
      return this.failed(connector.id, clientId, account.id, 'transform_failed', 'access_denied', 'Your sign-in could not be completed.');
    }
    if (outcome.kind === 'deny') {
      this.audit.emit({
        type: 'login.denied',
        userId: account.id,
        clientId,
        connectorId: connector.id,
        reason: 'transform_denied',
        data: { transform: outcome.transform, message: outcome.reason },
      });
      return { ok: false, oauthError: 'access_denied', message: 'Your sign-in was denied by policy.' };
    }

    const decision = await this.risk.evaluate({ score: outcome.risk, reasons: outcome.riskReasons, identity, claims: outcome.claims, clientId, connectorId: connector.id, userId: account.id });
    if (decision === 'deny') {
      this.audit.emit({ type: 'login.denied', userId: account.id, clientId, connectorId: connector.id, reason: 'risk_denied', data: { risk: outcome.risk } });
      return { ok: false, oauthError: 'access_denied', message: 'Your sign-in was denied by policy.' };
    }
    if (decision === 'step_up') {
      this.audit.emit({ type: 'login.denied', userId: account.id, clientId, connectorId: connector.id, reason: 'risk_step_up_required', data: { risk: outcome.risk } });
      return { ok: false, oauthError: 'access_denied', message: 'This sign-in needs an additional verification step. Please sign in with a second factor.' };
    }

    if (outcome.accountUpdates && this.support.applyAccountUpdates) {
      try {
        await this.support.applyAccountUpdates(account.id, outcome.accountUpdates, { clientId, connectorId: connector.id, transforms: outcome.transforms ?? connector.transforms });
      } catch (error) {
        return this.failed(connector.id, clientId, account.id, 'account_update_failed', 'server_error', 'Your account could not be updated. Please try again later.', String((error as Error)?.message ?? error));
      }
    }

    await this.snapshots.put(account.id, clientId, connector.id, { claims: outcome.claims, origins: outcome.origins });
    return { ok: true, risk: outcome.risk };
  }

  consentGranted(userId: string | undefined, clientId: string, grantId: string): void {
    this.audit.emit({ type: 'consent.granted', userId: userId ?? null, clientId, data: { grant_id: grantId } });
  }

  /** A connector-level failure (bad signature, state, upstream down…): audited and mapped. */
  connectorFailed(connectorId: string | undefined, clientId: string | undefined, error: ConnectorError): LoginFailure {
    if (error.event) {
      this.audit.emit({ type: error.event, clientId: clientId ?? null, connectorId: connectorId ?? null, reason: error.reason, data: { detail: error.detail } });
    }
    return this.failed(connectorId, clientId, undefined, error.reason, error.oauthError, error.publicMessage, error.detail);
  }

  private failed(
    connectorId: string | undefined,
    clientId: string | undefined,
    userId: string | undefined,
    reason: string,
    oauthError: LoginFailure['oauthError'],
    message: string,
    detail?: string,
    type: 'login.failed' | 'login.denied' = 'login.failed',
  ): LoginFailure {
    this.audit.emit({ type, clientId: clientId ?? null, connectorId: connectorId ?? null, userId: userId ?? null, reason, data: detail ? { detail } : undefined });
    return { ok: false, oauthError, message };
  }
}

export { AccountInactiveError };
