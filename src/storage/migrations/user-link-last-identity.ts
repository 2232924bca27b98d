import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** user_links.last_identity: the last upstream identity, for transforms at SSO (see src/transforms/last-identity.store.ts). */
export class UserLinkLastIdentity1764720000000 implements MigrationInterface {
  name = 'UserLinkLastIdentity1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('user_links', new TableColumn({ name: 'last_identity', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('user_links', 'last_identity');
  }
}
