/**
 * Single-use keys across instances: `claim()` inserts, and a duplicate insert means the key
 * was already used. Backed by the database (primary-key uniqueness), so a replay is refused on
 * any instance sharing it.
 */
import { LessThan, type DataSource } from 'typeorm';
import { ExpiringKeyEntity } from './expiring-key.entity.js';

export class ExpiringKeysStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Records `key` until `expiresAtMs`. Returns false if it is already recorded (a replay). */
  async claim(key: string, expiresAtMs: number): Promise<boolean> {
    const repo = this.dataSource.getRepository(ExpiringKeyEntity);
    const existing = await repo.findOne({ where: { key } });
    if (existing) {
      if (existing.expiresAt > Date.now()) return false;
      await repo.delete({ key });
    }
    try {
      await repo.insert({ key, expiresAt: expiresAtMs });
      return true;
    } catch {
      return false; // unique violation: another request claimed it concurrently
    }
  }

  async has(key: string): Promise<boolean> {
    const row = await this.dataSource.getRepository(ExpiringKeyEntity).findOne({ where: { key } });
    return !!row && row.expiresAt > Date.now();
  }

  async sweep(): Promise<number> {
    const result = await this.dataSource.getRepository(ExpiringKeyEntity).delete({ expiresAt: LessThan(Date.now()) });
    return result.affected ?? 0;
  }
}
