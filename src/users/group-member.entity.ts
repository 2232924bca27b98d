import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../storage/columns.js';

/** Membership of a user (or a nested group) in a group. */
@Entity('user_group_members')
@Index('idx_user_group_members_member', ['memberId'])
export class GroupMemberEntity {
  @PrimaryColumn({ name: 'group_id', type: 'varchar', length: 64 })
  groupId!: string;

  @PrimaryColumn({ name: 'member_id', type: 'varchar', length: 64 })
  memberId!: string;

  /** `User` or `Group` (RFC 7643 §4.2 members.type). */
  @Column({ name: 'member_type', type: 'varchar', length: 16 })
  memberType!: 'User' | 'Group';

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;
}
