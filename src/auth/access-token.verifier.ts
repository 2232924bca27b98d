/**
 * Verifies Herald's own access tokens for the APIs Herald serves (SCIM, admin): signature by a
 * published Herald key, `typ: at+jwt`, issuer, audience, expiry, not revoked, and the scope.
 */
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
import type { ProviderHost } from '../oauth/provider-host.js';
import type { AccountReader } from '../users/account-attributes.js';

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

const CLOCK_SKEW_SECONDS = 30;

export class AccessTokenVerifier {
  constructor(
    private readonly issuer: string,
    private readonly host: ProviderHost,
    private readonly revoked: ExpiringKeysStore,
    private readonly accounts: AccountReader,
  ) {}

  /** `authorization` is the raw header value; `audience` the API identifier; `scope` required. */
  async verify(authorization: string | undefined, audience: string, scope: string): Promise<VerifiedCaller> {
    const match = authorization?.match(/^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i);
    if (!match) throw new AccessTokenError(401, 'invalid_token', 'a Bearer access token is required');
    const token = match[1]!;
    let payload: Record<string, any>;
    try {
      const header = decodeProtectedHeader(token);
      if (header.typ !== 'at+jwt' || typeof header.kid !== 'string') throw new Error('not an access token');
      const key = this.host.verificationKey(header.kid);
      if (!key) throw new Error('unknown key');
      const verified = await compactVerify(token, key);
      payload = JSON.parse(new TextDecoder().decode(verified.payload));
    } catch {
      throw new AccessTokenError(401, 'invalid_token', 'the access token is invalid');
    }
    const now = Math.floor(Date.now() / 1000);
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (payload.iss !== this.issuer || !audiences.includes(audience)) throw new AccessTokenError(401, 'invalid_token', 'the access token is not for this API');
    if (typeof payload.exp !== 'number' || payload.exp + CLOCK_SKEW_SECONDS <= now) throw new AccessTokenError(401, 'invalid_token', 'the access token has expired');
    if (typeof payload.jti === 'string' && (await this.revoked.has(`revoked-jwt:${payload.jti}`))) {
      throw new AccessTokenError(401, 'invalid_token', 'the access token was revoked');
    }
    // A user's token lives only as long as its grant (revoked at logout, refresh reuse…) and the
    // account (deactivated over SCIM).
    if (payload.sub !== payload.client_id) {
      const shadow = await this.host.current.AccessToken.adapter.find(String(payload.jti));
      const account = shadow ? await this.accounts.findById(String(payload.sub)) : undefined;
      if (!account?.active) throw new AccessTokenError(401, 'invalid_token', 'the access token was revoked');
    }
    const scopes = new Set<string>(typeof payload.scope === 'string' ? payload.scope.split(' ') : []);
    if (!scopes.has(scope)) throw new AccessTokenError(403, 'insufficient_scope', `the access token lacks the "${scope}" scope`);
    return { clientId: String(payload.client_id), subject: String(payload.sub), scopes, jti: String(payload.jti) };
  }
}
