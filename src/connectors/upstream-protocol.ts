/**
 * What each kind of upstream said, as transforms receive it (`input.upstream`). Connectors fill
 * `UpstreamIdentity.protocol` with one of these; the transform SDK re-exports them.
 */
export interface OidcUpstream {
  kind: 'oidc';
  /** Upstream issuer URL. */
  issuer: string;
  /** Verified ID token claims. */
  idToken: Record<string, unknown>;
  /** Userinfo claims (empty when userinfo is not used). */
  userinfo: Record<string, unknown>;
}

export interface SamlUpstream {
  kind: 'saml';
  /** IdP entity ID (the assertion's Issuer). */
  issuer: string;
  nameId: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  /** AuthnContextClassRef of the AuthnStatement. */
  authnContext?: string;
  /** Every attribute by its Name, always multi-valued. */
  attributes: Record<string, string[]>;
  /** The same attributes by FriendlyName, where the IdP sent one. */
  friendlyAttributes: Record<string, string[]>;
}

export interface WalletUpstream {
  kind: 'wallet';
  format: 'dc+sd-jwt';
  /** The credential type (`vct`). */
  credentialType: string;
  /** Credential issuer (`iss`). */
  issuer: string;
  /** Disclosed claims only (plus the always-visible ones the DCQL query asked for). */
  claims: Record<string, unknown>;
  /** RFC 7638 thumbprint of the holder key (`cnf.jwk`), when key-bound. */
  holderKeyThumbprint?: string;
}

export type UpstreamProtocol = OidcUpstream | SamlUpstream | WalletUpstream;
