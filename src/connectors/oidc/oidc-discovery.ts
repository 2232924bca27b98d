/**
 * The IdP's metadata, discovered lazily: Herald starts even when the IdP is down, and every
 * sign-in retries discovery until it succeeds (concurrent sign-ins share one attempt). The
 * discovered `issuer` must equal the configured one. Metadata older than a day is refreshed in
 * the background, keeping the old copy if the refresh fails.
 *
 * ID token signatures: openid-client 6 does not check them in the code flow unless
 * non-repudiation checks are on, and its JWKS cache only refetches on an unknown `kid` when the
 * cached set is a minute old (not configurable). Herald verifies them with jose's remote JWK set
 * instead: cached for `jwksCacheSeconds`, refetched once on an unknown `kid`, at most once per
 * `jwksCooldownSeconds`.
 */
import { createRemoteJWKSet, customFetch as joseCustomFetch, type RemoteJWKSet } from 'jose';
import * as oidc from 'openid-client';
import { ConnectorError } from '../connector.js';
import type { OidcConnectorConfig } from './oidc.config.js';
import type { ClientAuthentication } from './oidc-client-auth.js';
import { toConnectorError } from './oidc-errors.js';
import type { UpstreamHttp } from './oidc-http.js';

const METADATA_MAX_AGE_MS = 24 * 3600 * 1000;

export interface DiscoveredIdp {
  configuration: oidc.Configuration;
  jwks: RemoteJWKSet;
  /** The issuer string the IdP uses (equal to the configured one, up to a trailing slash). */
  issuer: string;
  discoveredAt: number;
}

export class OidcDiscovery {
  private current: DiscoveredIdp | undefined;
  private inflight: Promise<DiscoveredIdp> | undefined;

  constructor(
    private readonly config: OidcConnectorConfig,
    private readonly http: UpstreamHttp,
    private readonly authentication: () => Promise<ClientAuthentication>,
    private readonly onRefreshFailure: (error: ConnectorError) => void,
  ) {}

  /** The discovered IdP, discovering it now if needed. Throws a ConnectorError. */
  async ready(): Promise<DiscoveredIdp> {
    const current = this.current;
    if (current) {
      if (Date.now() - current.discoveredAt > METADATA_MAX_AGE_MS && !this.inflight) {
        void this.attempt().catch((error: ConnectorError) => this.onRefreshFailure(error));
      }
      return current;
    }
    return this.attempt();
  }

  private attempt(): Promise<DiscoveredIdp> {
    this.inflight ??= this.discover()
      .then((discovered) => {
        this.current = discovered;
        return discovered;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  private async discover(): Promise<DiscoveredIdp> {
    const { auth, metadata } = await this.authentication();
    const configured = new URL(this.config.issuer);
    let configuration: oidc.Configuration;
    try {
      configuration = await oidc.discovery(configured, this.config.clientId, metadata, auth, {
        [oidc.customFetch]: this.http.fetch as oidc.CustomFetch,
        timeout: this.config.timeouts.totalMs / 1000,
        execute: configured.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      });
    } catch (error) {
      throw toConnectorError(error, 'discovery');
    }
    const server = configuration.serverMetadata();
    // openid-client compares issuers too; Herald does not rely on it alone (and refuses the
    // multi-tenant issuer templates it tolerates for Entra ID).
    if (!sameIssuer(server.issuer, this.config.issuer)) {
      throw new ConnectorError('upstream_protocol', 'issuer_mismatch', `discovery: the document names issuer ${server.issuer}, configured ${this.config.issuer}`);
    }
    for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
      if (typeof server[field] !== 'string') throw new ConnectorError('upstream_unavailable', 'discovery_incomplete', `discovery: no ${field}`);
    }
    if (Array.isArray(server.response_types_supported) && !server.response_types_supported.includes('code')) {
      throw new ConnectorError('upstream_protocol', 'discovery_unsupported', 'discovery: the IdP does not support response_type=code');
    }
    configuration.timeout = this.config.timeouts.totalMs / 1000;
    const jwks = createRemoteJWKSet(new URL(server.jwks_uri!), {
      cooldownDuration: this.config.jwksCooldownSeconds * 1000,
      cacheMaxAge: this.config.jwksCacheSeconds * 1000,
      timeoutDuration: this.config.timeouts.totalMs,
      [joseCustomFetch]: this.http.fetch as never,
    });
    return { configuration, jwks, issuer: server.issuer, discoveredAt: Date.now() };
  }
}

/** Equal issuer identifiers; a lone trailing slash on a bare origin is the only tolerated difference. */
export function sameIssuer(a: string, b: string): boolean {
  if (a === b) return true;
  return URL.canParse(a) && URL.canParse(b) && new URL(a).href === new URL(b).href;
}
