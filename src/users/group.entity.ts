import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../storage/columns.js';

/**
 * A group of accounts (SCIM Group). Members are rows of `user_group_members`; a user's
 * `groups` attribute is derived from them. `version` gives the SCIM ETag.
 */
@Entity('user_groups')
export class GroupEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'display_name', type: 'varchar', length: 255 })
  displayName!: string;

  /** Lower-cased displayName: unique, because Microsoft Entra matches groups by it. */
  @Index('uq_user_groups_display_name_lower', { unique: true })
  @Column({ name: 'display_name_lower', type: 'varchar', length: 255 })
  displayNameLower!: string;

  @Index('idx_user_groups_external_id')
  @Column({ name: 'external_id', type: 'varchar', length: 255, nullable: true })
  externalId!: string | null;

  @Column({ type: 'integer', default: 1 })
  version!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
