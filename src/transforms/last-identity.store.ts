/**
 * The user's last upstream identity, kept on the upstream link (`user_links.last_identity`), so
 * that when the browser session signs in to a second client without a login step (SSO), that
 * client's transforms can run on what the upstream said at the last real sign-in. Deleting the
 * link (deprovision, erasure) deletes it too.
 */
import type { DataSource } from 'typeorm';
import type { UpstreamIdentity } from '../connectors/connector.js';
import { ClaimSnapshotEntity } from '../claims/claim-snapshot.entity.js';
import { UserLinkEntity } from '../users/user-link.entity.js';

export interface RememberedIdentity {
  connectorId: string;
  identity: UpstreamIdentity;
  /** When the upstream sign-in happened (link last_login_at), epoch ms. */
  at: number;
}

export class LastIdentityStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Called after a successful sign-in; the link was created or touched by account resolution. */
  async remember(connectorId: string, identity: UpstreamIdentity): Promise<void> {
    const { private: _private, ...kept } = identity;
    await this.dataSource.getRepository(UserLinkEntity).update({ connectorId, upstreamSubject: identity.subject }, { lastIdentity: kept as Record<string, any> });
  }

  /** The identity of the user's most recent sign-in, if Herald kept one. */
  async latest(userId: string): Promise<RememberedIdentity | undefined> {
    const links = await this.dataSource.getRepository(UserLinkEntity).find({ where: { userId } });
    const last = links.filter((l) => l.lastIdentity && l.lastLoginAt).sort((a, b) => b.lastLoginAt! - a.lastLoginAt!)[0];
    if (!last) return undefined;
    return { connectorId: last.connectorId, identity: last.lastIdentity as UpstreamIdentity, at: last.lastLoginAt! };
  }

  /** When the claim snapshot of (user, client) was written, if there is one. */
  async snapshotWrittenAt(userId: string, clientId: string): Promise<number | undefined> {
    const row = await this.dataSource.getRepository(ClaimSnapshotEntity).findOne({ where: { userId, clientId }, select: { updatedAt: true, userId: true, clientId: true } });
    return row?.updatedAt;
  }
}
