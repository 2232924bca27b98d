import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../storage/columns.js';

/**
 * A signing key. The newest key of each algorithm signs; older ones stay published in the JWKS
 * until `retireAt` (the moment every token they signed has expired), then they are deleted.
 */
@Entity('signing_keys')
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  alg!: string;

  /** Private JWK as JSON, or `enc:<base64url>` when keys.encryptionSecret is set. */
  @Column({ name: 'private_jwk', type: 'text' })
  privateJwk!: string;

  @Column({ name: 'public_jwk', type: 'text' })
  publicJwk!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  /** Set when a newer key of the same algorithm took over signing. */
  @Column({ name: 'superseded_at', type: 'bigint', nullable: true, transformer: epochMs })
  supersededAt!: number | null;

  /** After this moment the key is no longer published. */
  @Column({ name: 'retire_at', type: 'bigint', nullable: true, transformer: epochMs })
  retireAt!: number | null;
}
