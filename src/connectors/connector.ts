/**
 * THE connector contract. A connector turns a sign-in at an upstream identity system into an
 * UpstreamIdentity. Herald drives it from the login interaction; the connector never sees
 * oidc-provider, accounts or tokens.
 *
 * Three login styles:
 * - `redirect`      begin() → a URL to send the browser to; the upstream comes back to the
 *                   connector's callback route, which calls complete().
 * - `form`          begin() → HTML rendered by Herald (the dev connector, wallet QR pages); the
 *                   form posts back to the connector's callback route.
 * - Either style may serve extra routes (SAML ACS and metadata, OpenID4VP request_uri and
 *   direct_post) through `routes`.
 *
 * Flow state (state, nonce, PKCE verifier, request ids) is persisted by Herald in the
 * flow_states table through the FlowStateStore, so any instance can finish a sign-in that
 * another one started. Browser binding is Herald's job: after `succeed()`, Herald redirects to
 * /interaction/<id>/continue, where oidc-provider's interaction cookie must match.
 */
import type { Request, Response } from 'express';
import type { AuditEventType } from '../audit/audit.events.js';
import type { ConnectorConfig } from './connector-config.schema.js';
import type { PageOptions, RenderedPage } from '../ui/layout.js';
import type { UpstreamProtocol } from './upstream-protocol.js';

export type ConnectorType = ConnectorConfig['type'];

/** What an upstream said about the user, normalized across protocols. */
export interface UpstreamIdentity {
  /** Subject, stable within the connector (OIDC `sub`, SAML NameID or attribute, wallet issuer+claim). */
  subject: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  givenName?: string;
  familyName?: string;
  /** Raw upstream attributes: ID token + userinfo claims, SAML attributes (arrays), disclosed claims. */
  attributes: Record<string, unknown>;
  amr?: string[];
  acr?: string;
  /** Seconds since epoch when the upstream authenticated the user. */
  authTime?: number;
  /** Protocol-specific input for transforms (see upstream-protocol.ts). */
  protocol: UpstreamProtocol;
  /** Connector-private data kept server-side (SAML SessionIndex for logout…); never sent anywhere. */
  private?: Record<string, unknown>;
}

/** The sign-in being served: which interaction, client and hints. */
export interface LoginContext {
  /** oidc-provider interaction uid. */
  interactionId: string;
  clientId: string;
  loginHint?: string;
  /** Herald's own base URL, without trailing slash. */
  issuer: string;
  /** Requested ACR values / prompt / max_age, for connectors that forward them upstream. */
  acrValues?: string[];
  prompt?: string[];
  maxAge?: number;
}

export type BeginResult =
  | { kind: 'redirect'; url: string }
  /** A page Herald serves as is (built with `services.ui.page`, which sets the security headers). */
  | { kind: 'page'; page: RenderedPage }
  /** An auto-submitted form to the upstream (SAML HTTP-POST binding). */
  | { kind: 'post'; url: string; fields: Record<string, string> };

/** Persisted flow state, owned by Herald, shared by all instances. */
export interface FlowStateStore {
  /** Saves state under `key` (e.g. the OAuth `state` value) for `ttlSeconds`. */
  put(key: string, value: Record<string, unknown>, ttlSeconds: number): Promise<void>;
  /** Reads and deletes atomically: a second take of the same key returns undefined (replay). */
  take(key: string): Promise<Record<string, unknown> | undefined>;
  /** Reads without consuming (polling). */
  peek(key: string): Promise<Record<string, unknown> | undefined>;
  /** Replaces the value of an existing key, keeping its expiry. Returns false if it is gone. */
  update(key: string, value: Record<string, unknown>): Promise<boolean>;
}

/** Records a value as used until it expires; returns false if it was already used (replay). */
export type ReplayGuard = (key: string, expiresAtMs: number) => Promise<boolean>;

/** What a connector may use from Herald. */
export interface ConnectorServices {
  state: FlowStateStore;
  replay: ReplayGuard;
  /** Herald's issuer URL (base of every callback URL). */
  issuer: string;
  /** Absolute directory of the config (relative file paths in connector config resolve here). */
  configDir: string;
  /** Whether Herald runs in development mode. */
  development: boolean;
  log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
  /** Renders a page in Herald's frame and theme. */
  ui: { page(options: PageOptions): RenderedPage };
  /**
   * Audits a security-relevant event that no sign-in will report (e.g. a replayed or unsolicited
   * upstream message arriving with no interaction behind it). The connector id is added.
   */
  audit(event: { type: AuditEventType; reason: string; clientId?: string | null; data?: Record<string, unknown> }): void;
}

/** How a connector hands a finished upstream sign-in back to Herald from one of its own routes. */
export interface ConnectorRouteContext {
  req: Request;
  res: Response;
  /** Finish the sign-in of `interactionId` with this identity (Herald continues the pipeline). */
  succeed(interactionId: string, identity: UpstreamIdentity): Promise<void>;
  /** End the sign-in of `interactionId` with an error page and an OAuth error to the client. */
  fail(interactionId: string | undefined, error: ConnectorError): Promise<void>;
}

export interface ConnectorRoute {
  method: 'GET' | 'POST';
  /** Path below `/connectors/<id>/`, e.g. `callback`, `acs`, `metadata`. */
  path: string;
  handle(ctx: ConnectorRouteContext): Promise<void>;
}

export interface Connector {
  readonly id: string;
  readonly type: ConnectorType;
  readonly name: string;
  /** Transform names run on this connector's identities. */
  readonly transforms: string[];
  /** Email domains for home-realm discovery. */
  readonly emailDomains: string[];
  /** Async set-up after construction (discovery, metadata download); failures are reported, not fatal. */
  init?(): Promise<void>;
  /** Starts an upstream sign-in for this interaction. */
  begin(login: LoginContext): Promise<BeginResult>;
  /** Routes served under /connectors/<id>/ (callback, ACS, metadata, request_uri…). */
  routes(): ConnectorRoute[];
  /** Optional: upstream logout URL for the identity's private data. */
  logoutUrl?(identity: { private?: Record<string, unknown>; subject: string }, returnTo: string): Promise<string | undefined>;
  close?(): Promise<void>;
}

export type ConnectorErrorKind =
  /** The user or upstream refused (error=access_denied, status not Success, denied by policy). */
  | 'access_denied'
  /** Upstream down, slow, or its metadata could not be fetched. */
  | 'upstream_unavailable'
  /** Upstream answered but broke the protocol: bad signature, nonce, issuer, replay, state… */
  | 'upstream_protocol';

/**
 * A typed connector failure: `reason` is a stable machine-readable code for audit events
 * (e.g. `bad_signature`, `nonce_mismatch`, `state_unknown`), `detail` private text for logs;
 * the user and the client only ever see a generic message.
 */
export class ConnectorError extends Error {
  constructor(
    readonly kind: ConnectorErrorKind,
    readonly reason: string,
    readonly detail?: string,
    options?: { cause?: unknown; event?: AuditEventType },
  ) {
    super(`${kind}: ${reason}${detail ? ` (${detail})` : ''}`, options);
    this.name = 'ConnectorError';
    this.event = options?.event;
  }

  /** A protocol-specific audit event emitted besides `login.failed` (e.g. `saml.assertion_rejected`). */
  readonly event?: AuditEventType;

  /** The OAuth error the client receives. */
  get oauthError(): 'access_denied' | 'temporarily_unavailable' {
    return this.kind === 'upstream_unavailable' ? 'temporarily_unavailable' : 'access_denied';
  }

  get publicMessage(): string {
    switch (this.kind) {
      case 'access_denied':
        return 'The sign-in was cancelled or refused.';
      case 'upstream_unavailable':
        return 'The identity provider is not reachable right now. Please try again in a moment.';
      default:
        return 'The identity provider\'s answer could not be accepted.';
    }
  }
}

/** A factory per connector type: validates nothing (the schema did), builds the instance. */
export type ConnectorFactory<C extends ConnectorConfig = ConnectorConfig> = (config: C, services: ConnectorServices) => Connector;
