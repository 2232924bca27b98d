import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../storage/columns.js';

/** oidc-provider's models (sessions, grants, codes, refresh tokens, interactions…), one row each. */
@Entity('oidc_payloads')
@Index('idx_oidc_payloads_grant', ['grantId'])
@Index('idx_oidc_payloads_uid', ['uid'])
@Index('idx_oidc_payloads_user_code', ['userCode'])
@Index('idx_oidc_payloads_expires_at', ['expiresAt'])
export class OidcPayloadEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  id!: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  model!: string;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'grant_id', type: 'varchar', length: 255, nullable: true })
  grantId!: string | null;

  @Column({ name: 'user_code', type: 'varchar', length: 255, nullable: true })
  userCode!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  uid!: string | null;

  @Column({ name: 'account_id', type: 'varchar', length: 64, nullable: true })
  accountId!: string | null;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt!: number | null;

  @Column({ name: 'consumed_at', type: 'bigint', nullable: true, transformer: epochMs })
  consumedAt!: number | null;
}
