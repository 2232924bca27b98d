import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs, jsonText } from '../storage/columns.js';

/**
 * The last good answer of a claim provider for one request (provider, resolved URL), kept for
 * providers whose failure mode serves stale values. Shared by every instance and kept across
 * restarts; deleted with the user it belongs to.
 */
@Entity('claim_provider_values')
@Index('idx_claim_provider_values_user', ['userId'])
export class ClaimProviderValueEntity {
  @PrimaryColumn({ name: 'provider_id', type: 'varchar', length: 255 })
  providerId!: string;

  /** SHA-256 (hex) of the resolved request URL. */
  @PrimaryColumn({ name: 'cache_key', type: 'varchar', length: 64 })
  cacheKey!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64, nullable: true })
  userId!: string | null;

  /** The mapped claims (claim key → value). */
  @Column({ type: 'text', transformer: jsonText })
  value!: Record<string, unknown>;

  @Column({ name: 'fetched_at', type: 'bigint', transformer: epochMs })
  fetchedAt!: number;
}
