import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../storage/columns.js';

@Entity('audit_events')
@Index('idx_audit_events_time', ['time'])
@Index('idx_audit_events_user', ['userId'])
@Index('idx_audit_events_type', ['type'])
export class AuditEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'bigint', transformer: epochMs })
  time!: number;

  /** `<noun>.<past-verb>`, e.g. `token.issued`. */
  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ name: 'client_id', type: 'varchar', length: 255, nullable: true })
  clientId!: string | null;

  /** Herald user id the event is about (pseudonymized when the user is deleted). */
  @Column({ name: 'user_id', type: 'varchar', length: 64, nullable: true })
  userId!: string | null;

  @Column({ name: 'connector_id', type: 'varchar', length: 255, nullable: true })
  connectorId!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  reason!: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonText })
  data!: Record<string, any> | null;
}
