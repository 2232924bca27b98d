import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../storage/columns.js';

/**
 * A Herald account. `sub` of every token is `id`. The account's attributes are kept in SCIM
 * shape: `core` (RFC 7643 User attributes such as name, emails), `enterprise` (the enterprise
 * extension) and `custom` (the Herald extension whose attributes are declared in config).
 * Frequently searched values are copied into indexed columns.
 */
@Entity('users')
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'user_name', type: 'varchar', length: 255 })
  userName!: string;

  /** Lower-cased userName: SCIM userName uniqueness is case-insensitive. */
  @Index('uq_users_user_name_lower', { unique: true })
  @Column({ name: 'user_name_lower', type: 'varchar', length: 255 })
  userNameLower!: string;

  @Index('idx_users_external_id')
  @Column({ name: 'external_id', type: 'varchar', length: 255, nullable: true })
  externalId!: string | null;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  /** Primary email, lower-cased, for linking rules. */
  @Index('idx_users_email')
  @Column({ type: 'varchar', length: 320, nullable: true })
  email!: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified!: boolean;

  @Column({ type: 'text', transformer: jsonText })
  core!: Record<string, any>;

  @Column({ type: 'text', transformer: jsonText })
  enterprise!: Record<string, any>;

  @Column({ type: 'text', transformer: jsonText })
  custom!: Record<string, any>;

  @Column({ type: 'integer', default: 1 })
  version!: number;

  /**
   * Who owns the account's attributes: null when sign-ins keep them up to date (just-in-time
   * accounts), `scim` once a provisioning client manages the account — then sign-ins no longer
   * overwrite the profile.
   */
  @Column({ name: 'managed_by', type: 'varchar', length: 16, nullable: true })
  managedBy!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
