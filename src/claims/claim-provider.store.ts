/** Last good claim-provider answers in the database (for onFailure: stale), shared by instances. */
import type { DataSource } from 'typeorm';
import { ClaimProviderValueEntity } from './claim-provider-value.entity.js';

export interface StoredProviderValue {
  values: Record<string, unknown>;
  fetchedAt: number;
}

export class ClaimProviderStore {
  constructor(private readonly dataSource: DataSource) {}

  async get(providerId: string, cacheKey: string): Promise<StoredProviderValue | undefined> {
    const row = await this.dataSource.getRepository(ClaimProviderValueEntity).findOne({ where: { providerId, cacheKey } });
    return row ? { values: row.value, fetchedAt: row.fetchedAt } : undefined;
  }

  async put(providerId: string, cacheKey: string, userId: string | null, values: Record<string, unknown>, fetchedAt: number): Promise<void> {
    await this.dataSource
      .getRepository(ClaimProviderValueEntity)
      .upsert({ providerId, cacheKey, userId, value: values as any, fetchedAt }, ['providerId', 'cacheKey']);
  }
}
