import type { DataSource } from 'typeorm';
import { ClaimSnapshotEntity } from './claim-snapshot.entity.js';
import type { ClaimSnapshot, ClaimSnapshotReader } from './sources/transform.source.js';

export class ClaimSnapshotStore implements ClaimSnapshotReader {
  constructor(private readonly dataSource: DataSource) {}

  async get(userId: string, clientId: string): Promise<ClaimSnapshot | undefined> {
    const row = await this.dataSource.getRepository(ClaimSnapshotEntity).findOne({ where: { userId, clientId } });
    return row ? { claims: row.claims, origins: row.origins } : undefined;
  }

  async put(userId: string, clientId: string, connectorId: string | null, snapshot: ClaimSnapshot): Promise<void> {
    await this.dataSource
      .getRepository(ClaimSnapshotEntity)
      .upsert({ userId, clientId, connectorId, claims: snapshot.claims as any, origins: snapshot.origins as any, updatedAt: Date.now() }, ['userId', 'clientId']);
  }

  async deleteForUser(userId: string): Promise<void> {
    await this.dataSource.getRepository(ClaimSnapshotEntity).delete({ userId });
  }
}
