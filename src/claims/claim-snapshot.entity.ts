import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../storage/columns.js';

/**
 * The claims transforms produced at a user's latest sign-in to a client. Tokens issued later
 * (refresh, new access tokens) read them without re-running the upstream sign-in.
 */
@Entity('claim_snapshots')
export class ClaimSnapshotEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 255 })
  clientId!: string;

  @Column({ name: 'connector_id', type: 'varchar', length: 255, nullable: true })
  connectorId!: string | null;

  @Column({ type: 'text', transformer: jsonText })
  claims!: Record<string, any>;

  @Column({ type: 'text', transformer: jsonText })
  origins!: Record<string, any>;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;
}
