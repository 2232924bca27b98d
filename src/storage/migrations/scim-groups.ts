import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const bigint = (name: string) => ({ name, type: 'bigint', isNullable: false });
const varchar = (name: string, length: number, nullable = false) => ({ name, type: 'varchar', length: String(length), isNullable: nullable });

/** SCIM Groups and their members; `users.managed_by` marks accounts a provisioning client owns. */
export class ScimGroups1764633600000 implements MigrationInterface {
  name = 'ScimGroups1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'user_groups',
        columns: [
          { ...varchar('id', 64), isPrimary: true },
          varchar('display_name', 255),
          varchar('display_name_lower', 255),
          varchar('external_id', 255, true),
          { name: 'version', type: 'integer', default: 1 },
          bigint('created_at'),
          bigint('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_user_groups_display_name_lower', columnNames: ['display_name_lower'], isUnique: true }),
          new TableIndex({ name: 'idx_user_groups_external_id', columnNames: ['external_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'user_group_members',
        columns: [
          { ...varchar('group_id', 64), isPrimary: true },
          { ...varchar('member_id', 64), isPrimary: true },
          varchar('member_type', 16),
          bigint('created_at'),
        ],
        indices: [new TableIndex({ name: 'idx_user_group_members_member', columnNames: ['member_id'] })],
      }),
    );
    await q.addColumn('users', new TableColumn({ name: 'managed_by', type: 'varchar', length: '16', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('users', 'managed_by');
    await q.dropTable('user_group_members');
    await q.dropTable('user_groups');
  }
}
