import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../storage/columns.js';

/** A link between a Herald account and an upstream identity (connector, upstream subject). */
@Entity('user_links')
@Index('uq_user_links_upstream', ['connectorId', 'upstreamSubject'], { unique: true })
@Index('idx_user_links_user', ['userId'])
export class UserLinkEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @Column({ name: 'connector_id', type: 'varchar', length: 255 })
  connectorId!: string;

  @Column({ name: 'upstream_subject', type: 'varchar', length: 1024 })
  upstreamSubject!: string;

  /** Last attributes the upstream returned (kept for explain and for transforms on refresh). */
  @Column({ name: 'last_attributes', type: 'text', nullable: true, transformer: jsonText })
  lastAttributes!: Record<string, any> | null;

  /**
   * The last upstream identity without connector-private data (profile, amr/acr, protocol data), so
   * that transforms can run for another client of the same browser session (SSO). See transforms/.
   */
  @Column({ name: 'last_identity', type: 'text', nullable: true, transformer: jsonText })
  lastIdentity!: Record<string, any> | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'last_login_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastLoginAt!: number | null;
}
