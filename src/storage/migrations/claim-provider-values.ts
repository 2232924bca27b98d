import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Last good answers of claim providers that may serve stale values. */
export class ClaimProviderValues1764633600001 implements MigrationInterface {
  name = 'ClaimProviderValues1764633600001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'claim_provider_values',
        columns: [
          { name: 'provider_id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'cache_key', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'value', type: 'text' },
          { name: 'fetched_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_claim_provider_values_user', columnNames: ['user_id'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('claim_provider_values');
  }
}
