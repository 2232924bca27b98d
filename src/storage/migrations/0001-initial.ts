import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

const bigint = (name: string, nullable = false) => ({ name, type: 'bigint', isNullable: nullable });
const varchar = (name: string, length: number, nullable = false) => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
const text = (name: string, nullable = false) => ({ name, type: 'text', isNullable: nullable });

/** Authorization server core: protocol state, keys, audit, accounts and their upstream links. */
export class Initial1764547200000 implements MigrationInterface {
  name = 'Initial1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'oidc_payloads',
        columns: [
          { ...varchar('id', 255), isPrimary: true },
          { ...varchar('model', 64), isPrimary: true },
          text('payload'),
          varchar('grant_id', 255, true),
          varchar('user_code', 255, true),
          varchar('uid', 255, true),
          varchar('account_id', 64, true),
          bigint('expires_at', true),
          bigint('consumed_at', true),
        ],
        indices: [
          new TableIndex({ name: 'idx_oidc_payloads_grant', columnNames: ['grant_id'] }),
          new TableIndex({ name: 'idx_oidc_payloads_uid', columnNames: ['uid'] }),
          new TableIndex({ name: 'idx_oidc_payloads_user_code', columnNames: ['user_code'] }),
          new TableIndex({ name: 'idx_oidc_payloads_expires_at', columnNames: ['expires_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'signing_keys',
        columns: [
          { ...varchar('kid', 128), isPrimary: true },
          varchar('alg', 16),
          text('private_jwk'),
          text('public_jwk'),
          bigint('created_at'),
          bigint('superseded_at', true),
          bigint('retire_at', true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { ...varchar('id', 36), isPrimary: true },
          bigint('time'),
          varchar('type', 64),
          varchar('outcome', 16),
          varchar('client_id', 255, true),
          varchar('user_id', 64, true),
          varchar('connector_id', 255, true),
          varchar('reason', 255, true),
          text('data', true),
        ],
        indices: [
          new TableIndex({ name: 'idx_audit_events_time', columnNames: ['time'] }),
          new TableIndex({ name: 'idx_audit_events_user', columnNames: ['user_id'] }),
          new TableIndex({ name: 'idx_audit_events_type', columnNames: ['type'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          { ...varchar('id', 64), isPrimary: true },
          varchar('user_name', 255),
          varchar('user_name_lower', 255),
          varchar('external_id', 255, true),
          { name: 'active', type: 'boolean', default: true },
          varchar('email', 320, true),
          { name: 'email_verified', type: 'boolean', default: false },
          text('core'),
          text('enterprise'),
          text('custom'),
          { name: 'version', type: 'integer', default: 1 },
          bigint('created_at'),
          bigint('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'uq_users_user_name_lower', columnNames: ['user_name_lower'], isUnique: true }),
          new TableIndex({ name: 'idx_users_external_id', columnNames: ['external_id'] }),
          new TableIndex({ name: 'idx_users_email', columnNames: ['email'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'user_links',
        columns: [
          { ...varchar('id', 64), isPrimary: true },
          varchar('user_id', 64),
          varchar('connector_id', 255),
          varchar('upstream_subject', 1024),
          text('last_attributes', true),
          bigint('created_at'),
          bigint('last_login_at', true),
        ],
        indices: [
          new TableIndex({ name: 'uq_user_links_upstream', columnNames: ['connector_id', 'upstream_subject'], isUnique: true }),
          new TableIndex({ name: 'idx_user_links_user', columnNames: ['user_id'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'expiring_keys',
        columns: [{ ...varchar('key', 512), isPrimary: true }, bigint('expires_at')],
        indices: [new TableIndex({ name: 'idx_expiring_keys_expires_at', columnNames: ['expires_at'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'claim_snapshots',
        columns: [
          { ...varchar('user_id', 64), isPrimary: true },
          { ...varchar('client_id', 255), isPrimary: true },
          varchar('connector_id', 255, true),
          text('claims'),
          text('origins'),
          bigint('updated_at'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'flow_states',
        columns: [{ ...varchar('key', 255), isPrimary: true }, text('value'), bigint('expires_at')],
        indices: [new TableIndex({ name: 'idx_flow_states_expires_at', columnNames: ['expires_at'] })],
      }),
    );
    await q.createTable(
      new Table({ name: 'settings', columns: [{ ...varchar('name', 128), isPrimary: true }, text('value')] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['settings', 'flow_states', 'claim_snapshots', 'expiring_keys', 'user_links', 'users', 'audit_events', 'signing_keys', 'oidc_payloads']) {
      await q.dropTable(table);
    }
  }
}
