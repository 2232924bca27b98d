/**
 * Flow state in the database, so that any instance can finish a sign-in another started.
 * `take` is consume-once: of two concurrent takes only the one whose DELETE removed the row
 * gets the value.
 */
import { LessThan, type DataSource, type Repository } from 'typeorm';
import type { FlowStateStore } from './connector.js';
import { FlowStateEntity } from './flow-state.entity.js';

export class DatabaseFlowStateStore implements FlowStateStore {
  private readonly repo: Repository<FlowStateEntity>;

  constructor(
    dataSource: DataSource,
    private readonly namespace = '',
  ) {
    this.repo = dataSource.getRepository(FlowStateEntity);
  }

  /** A view of the store whose keys are prefixed (one namespace per connector). */
  scoped(namespace: string): DatabaseFlowStateStore {
    return new DatabaseFlowStateStore(this.repo.manager.connection, `${this.namespace}${namespace}:`);
  }

  async put(key: string, value: Record<string, unknown>, ttlSeconds: number): Promise<void> {
    await this.repo.upsert({ key: this.namespace + key, value: value as any, expiresAt: Date.now() + ttlSeconds * 1000 }, ['key']);
  }

  async take(key: string): Promise<Record<string, unknown> | undefined> {
    const fullKey = this.namespace + key;
    const row = await this.repo.findOne({ where: { key: fullKey } });
    if (!row) return undefined;
    const result = await this.repo.delete({ key: fullKey });
    if (!result.affected) return undefined;
    return row.expiresAt > Date.now() ? row.value : undefined;
  }

  async peek(key: string): Promise<Record<string, unknown> | undefined> {
    const row = await this.repo.findOne({ where: { key: this.namespace + key } });
    return row && row.expiresAt > Date.now() ? row.value : undefined;
  }

  async update(key: string, value: Record<string, unknown>): Promise<boolean> {
    const result = await this.repo.update({ key: this.namespace + key }, { value: value as any });
    return (result.affected ?? 0) > 0;
  }

  async sweep(): Promise<number> {
    const result = await this.repo.delete({ expiresAt: LessThan(Date.now()) });
    return result.affected ?? 0;
  }
}
