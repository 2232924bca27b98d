import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Generated installation secrets (cookie signing keys) shared by every instance. */
@Entity('settings')
export class SettingEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  name!: string;

  @Column({ type: 'text' })
  value!: string;
}
