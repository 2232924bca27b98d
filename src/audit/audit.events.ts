/**
 * The audit event catalogue. Names are `<noun>.<past-verb>`; each event says what happened,
 * to whom, through which client and connector, and why when it failed.
 */
export const AUDIT_EVENT_TYPES = [
  'token.issued',
  'token.refused',
  'token.revoked',
  'key.rotated',
  'login.succeeded',
  'login.failed',
  'login.denied',
  'logout.succeeded',
  'consent.granted',
  'transform.failed',
  'transform.logged',
  'risk.evaluated',
  'saml.assertion_rejected',
  'wallet.presentation_rejected',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.linked',
  'user.exported',
  'group.created',
  'group.updated',
  'group.deleted',
  'claims.provider_failed',
  'config.reloaded',
  'transforms.reloaded',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  type: AuditEventType;
  outcome?: 'success' | 'failure';
  clientId?: string | null;
  userId?: string | null;
  connectorId?: string | null;
  /** Short machine-readable reason for failures, e.g. `invalid_signature`. */
  reason?: string | null;
  /** Further detail; values are redacted where their key names a secret. */
  data?: Record<string, unknown>;
}

export interface StoredAuditEvent extends Required<Omit<AuditEvent, 'data'>> {
  id: string;
  time: number;
  data: Record<string, unknown> | null;
}
