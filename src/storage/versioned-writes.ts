/**
 * Optimistic concurrency for SCIM resources: a write succeeds only if the stored version is the
 * one the writer read (ETags / If-Match); version bumps for resources changed indirectly.
 */
import { In, type EntityTarget, type ObjectLiteral, type Repository } from 'typeorm';

interface Versioned extends ObjectLiteral {
  id: string;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** Writes `row` (with its new `version`) only if the stored version is still `expectedVersion`. */
export async function updateIfVersion<T extends Versioned>(repo: Repository<T>, entity: EntityTarget<T>, row: T, expectedVersion: number): Promise<boolean> {
  const { id, createdAt: _created, ...fields } = row;
  const result = await repo
    .createQueryBuilder()
    .update(entity)
    .set(fields as any)
    .where('id = :id AND version = :expectedVersion', { id, expectedVersion })
    .execute();
  return (result.affected ?? 0) > 0;
}

/** Marks resources changed: a new version and timestamp. */
export async function bumpVersions<T extends Versioned>(repo: Repository<T>, entity: EntityTarget<T>, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await repo
    .createQueryBuilder()
    .update(entity)
    .set({ version: () => 'version + 1', updatedAt: Date.now() } as any)
    .where({ id: In(ids) } as any)
    .execute();
}
