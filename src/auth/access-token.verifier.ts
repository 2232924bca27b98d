/**
 * Verifies Herald's own access tokens for the APIs Herald serves (SCIM, admin): signature by a
 * published Herald key, `typ: at+jwt`, issuer, audience, expiry, not revoked, and the scope.
 */
import type { ProviderHost } from '../oauth/provider-host.js';

export interface VerifiedCaller {
  clientId: string;
  subject: string;
  scopes: Set<string>;
  jti: string;
}

export class AccessTokenError extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly oauthError: 'invalid_token' | 'insufficient_scope',
    readonly description: string,
  ) {
    super(description);
    this.name = 'AccessTokenError';
  }
}

export class AccessTokenVerifier {
  constructor(private readonly host: ProviderHost) {}

  /** `authorization` is the raw header value; `audience` the API identifier; `scope` required. */
  async verify(authorization: string | undefined, audience: string, scope: string): Promise<VerifiedCaller> {
    const match = authorization?.match(/^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i);
    if (!match) throw new AccessTokenError(401, 'invalid_token', 'a Bearer access token is required');
    // Signature, typ, issuer, expiry, revocation, grant and account: the same check as
    // introspection, userinfo and token exchange.
    const payload = await this.host.bridge.verifyActive(this.host.current, match[1]!);
    if (!payload) throw new AccessTokenError(401, 'invalid_token', 'the access token is invalid, expired or revoked');
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!audiences.includes(audience)) throw new AccessTokenError(401, 'invalid_token', 'the access token is not for this API');
    const scopes = new Set<string>(typeof payload.scope === 'string' ? payload.scope.split(' ') : []);
    if (!scopes.has(scope)) throw new AccessTokenError(403, 'insufficient_scope', `the access token lacks the "${scope}" scope`);
    return { clientId: String(payload.client_id), subject: String(payload.sub), scopes, jti: String(payload.jti) };
  }
}
