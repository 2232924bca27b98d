import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from './columns.js';

/**
 * A key that must be seen at most once until it expires: consumed SAML assertion IDs,
 * presented vp_tokens, revoked JWT ids. Inserting a key that exists means "replay".
 */
@Entity('expiring_keys')
export class ExpiringKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 512 })
  key!: string;

  @Index('idx_expiring_keys_expires_at')
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: number;
}
