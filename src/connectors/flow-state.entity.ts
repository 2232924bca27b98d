import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../storage/columns.js';

/** In-flight upstream sign-in state (OAuth state/nonce/PKCE, SAML request ids, wallet transactions). */
@Entity('flow_states')
export class FlowStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  key!: string;

  @Column({ type: 'text', transformer: jsonText })
  value!: Record<string, any>;

  @Index('idx_flow_states_expires_at')
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: number;
}
