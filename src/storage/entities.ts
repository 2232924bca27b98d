/**
 * Every table Herald owns, as TypeORM entities. Each feature keeps its entity beside its code;
 * this file is the explicit list the DataSource is built from.
 */
import { OidcPayloadEntity } from '../oauth/oidc-payload.entity.js';
import { SigningKeyEntity } from '../tokens/signing-key.entity.js';
import { AuditEventEntity } from '../audit/audit-event.entity.js';
import { UserEntity } from '../users/user.entity.js';
import { UserLinkEntity } from '../users/user-link.entity.js';
import { ExpiringKeyEntity } from './expiring-key.entity.js';
import { SettingEntity } from './setting.entity.js';
import { ClaimSnapshotEntity } from '../claims/claim-snapshot.entity.js';
import { FlowStateEntity } from '../connectors/flow-state.entity.js';
import { GroupEntity } from '../users/group.entity.js';
import { GroupMemberEntity } from '../users/group-member.entity.js';
import { ClaimProviderValueEntity } from '../claims/claim-provider-value.entity.js';

export const ENTITIES = [
  OidcPayloadEntity,
  SigningKeyEntity,
  AuditEventEntity,
  UserEntity,
  UserLinkEntity,
  ExpiringKeyEntity,
  SettingEntity,
  ClaimSnapshotEntity,
  FlowStateEntity,
  GroupEntity,
  GroupMemberEntity,
  ClaimProviderValueEntity,
];
