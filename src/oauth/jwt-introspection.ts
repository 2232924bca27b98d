/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of JWT access tokens.
 *
 * oidc-provider does not store JWT access tokens and refuses to introspect or revoke them.
 * Herald keeps protocol handling in oidc-provider and bridges the gap:
 *
 * - A user access token gets a "shadow" record (its payload, keyed by `jti`) when it is issued,
 *   stored like an opaque token and tied to its grant, so revoking the grant (refresh reuse,
 *   code reuse, logout) also deactivates it.
 * - Client-credentials tokens (the high-volume path) get no write at issuance; their shadow is
 *   created when they are first introspected or revoked, from the verified JWT itself.
 * - Before oidc-provider's introspection/revocation handlers run, a JWT in the `token`
 *   parameter is verified against Herald's keys and replaced by its `jti`; oidc-provider then
 *   authenticates the client, applies its policies and answers as for an opaque token.
 * - A revoked token's `jti` is remembered until it expires, so it never becomes active again.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import * as querystring from 'node:querystring';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ExpiringKeysStore } from '../storage/expiring-keys.store.js';
import type { HeraldSigningKey } from '../tokens/signing-key.js';
import type { AccountReader } from '../users/account-attributes.js';
import { ROUTES } from './routes.js';

const BODY_LIMIT = 56 * 1024;
const REVOKED_PREFIX = 'revoked-jwt:';

interface VerifiedAccessToken {
  jti: string;
  payload: Record<string, any>;
}

export class JwtIntrospectionBridge {
  private readonly publicKeys = new Map<string, KeyObject>();
  /** Revocations recorded during a request; the response waits for them (no window of re-activation). */
  private readonly pendingRevocations = new Map<string, Promise<void>>();

  constructor(
    private readonly issuer: string,
    signingKeys: HeraldSigningKey[],
    private readonly revoked: ExpiringKeysStore,
    private readonly accounts: AccountReader,
  ) {
    for (const key of signingKeys) this.publicKeys.set(key.kid!, key.keyObject());
  }

  /** Koa middleware registered with `provider.use`. */
  middleware = async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const route = ctx.path === ROUTES.introspection ? 'introspection' : ctx.path === ROUTES.revocation ? 'revocation' : undefined;
    if (!route || ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return next();

    const body = await readBody(ctx);
    if (body === undefined) return next(); // let oidc-provider produce its own error for bad bodies
    if (body === TOO_LARGE) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
      return;
    }
    const token = typeof body.token === 'string' ? body.token : undefined;
    let rewrittenJti: string | undefined;
    let rewrittenAudience: unknown;
    if (token && looksLikeJwt(token)) {
      const verified = await this.verify(token);
      if (verified && !(await this.revoked.has(REVOKED_PREFIX + verified.jti))) {
        const found = await this.ensureShadow((ctx as unknown as { app: Provider }).app, verified);
        body.token = found?.handle ?? unknownHandle();
        rewrittenJti = found ? verified.jti : undefined;
        rewrittenAudience = verified.payload.aud;
      } else {
        body.token = unknownHandle();
      }
    }
    (ctx.req as unknown as { body: unknown }).body = body;
    await next();
    if (rewrittenJti && this.pendingRevocations.has(rewrittenJti)) {
      await this.pendingRevocations.get(rewrittenJti);
      this.pendingRevocations.delete(rewrittenJti);
    }
    if (rewrittenJti && route === 'introspection' && ctx.body && typeof ctx.body === 'object' && (ctx.body as any).active) {
      const response = ctx.body as Record<string, unknown>;
      response.jti = rewrittenJti;
      response.aud ??= rewrittenAudience;
    }
  };

  /**
   * Koa middleware for the userinfo endpoint: a JWT access token issued for it (audience
   * `userinfoAudience`) is verified and replaced by its shadow handle, so that oidc-provider
   * serves it like its own tokens. Any other JWT is left as is (and found by no one: 401).
   */
  userinfoMiddleware(userinfoAudience: string) {
    return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
      const header = ctx.get('authorization');
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (match && looksLikeJwt(match[1]!)) {
        const payload = await this.verifyActive((ctx as unknown as { app: Provider }).app, match[1]!);
        const handle = payload && payload.aud === userinfoAudience ? payload.jti : unknownHandle();
        ctx.req.headers.authorization = `Bearer ${handle}`;
      }
      await next();
    };
  }

  /** Remembers a revoked JWT until it expires (oidc-provider `*.destroyed` events). */
  recordRevoked(jti: string, exp: number | undefined): Promise<void> {
    const recorded = this.revoked.claim(REVOKED_PREFIX + jti, (exp ?? Math.floor(Date.now() / 1000) + 3600) * 1000).then(() => undefined);
    this.pendingRevocations.set(jti, recorded);
    void recorded.then(() => setTimeout(() => this.pendingRevocations.delete(jti), 5000).unref());
    return recorded;
  }

  /**
   * The payload of an active Herald access token: valid signature, not expired, not revoked,
   * and — for user tokens — its grant still alive (its shadow record exists) and its account
   * active. The one check of Herald's own tokens (admin/SCIM APIs, userinfo, token exchange).
   */
  async verifyActive(provider: Provider, token: string): Promise<Record<string, any> | undefined> {
    return (await this.verifyActiveWithShadow(provider, token))?.payload;
  }

  /** As verifyActive, with the token's stored shadow record (grant and session of a user token). */
  async verifyActiveWithShadow(provider: Provider, token: string): Promise<{ payload: Record<string, any>; shadow?: Record<string, any> } | undefined> {
    if (!looksLikeJwt(token)) return undefined;
    const verified = await this.verify(token);
    if (!verified || (await this.revoked.has(REVOKED_PREFIX + verified.jti))) return undefined;
    const found = await this.ensureShadow(provider, verified);
    if (!found) return undefined;
    if (found.shadow) {
      const account = await this.accounts.findById(String(verified.payload.sub));
      if (!account?.active) return undefined;
    }
    return { payload: verified.payload, shadow: found.shadow };
  }

  private async verify(token: string): Promise<VerifiedAccessToken | undefined> {
    try {
      const { kid, typ } = decodeProtectedHeader(token);
      if (typ !== 'at+jwt' || typeof kid !== 'string') return undefined;
      const key = this.publicKeys.get(kid);
      if (!key) return undefined;
      const { payload } = await compactVerify(token, key);
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, any>;
      if (claims.iss !== this.issuer || typeof claims.jti !== 'string') return undefined;
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined;
      return { jti: claims.jti, payload: claims };
    } catch {
      return undefined;
    }
  }

  /**
   * The handle oidc-provider finds the token by (and a user token's shadow record), or
   * undefined if the token is no longer valid.
   */
  private async ensureShadow(provider: Provider, token: VerifiedAccessToken): Promise<{ handle: string; shadow?: Record<string, any> } | undefined> {
    const existing = await provider.AccessToken.adapter.find(token.jti);
    if (existing) return { handle: token.jti, shadow: existing as Record<string, any> };
    const { payload } = token;
    // A user token without its shadow has been revoked (its grant is gone).
    if (payload.sub !== payload.client_id) return undefined;
    const existingCc = await provider.ClientCredentials.adapter.find(token.jti);
    if (existingCc) return { handle: token.jti };
    const { iss: _iss, sub: _sub, client_id: clientId, jti, iat, exp, aud, scope, cnf, ...extra } = payload;
    await provider.ClientCredentials.adapter.upsert(
      jti,
      {
        jti,
        kind: 'ClientCredentials',
        iat,
        exp,
        clientId,
        aud,
        scope,
        extra,
        ...(cnf?.jkt ? { jkt: cnf.jkt } : {}),
        ...(cnf?.['x5t#S256'] ? { 'x5t#S256': cnf['x5t#S256'] } : {}),
      } as any,
      Math.max(1, exp - Math.floor(Date.now() / 1000)),
    );
    return { handle: jti };
  }
}

/**
 * The shadow record of a freshly issued user access token (called from the JWT customizer).
 * Userinfo tokens are stored without their audience: oidc-provider's userinfo endpoint only
 * serves tokens without one (the audience is in the JWT; introspection restores it).
 */
export async function saveAccessTokenShadow(
  provider: Provider,
  token: Record<string, any>,
  payload: Record<string, any>,
  userinfoAudience?: string,
  /** For delegated tokens (token exchange): the subject token's grant, whose revocation ends this token too. */
  parentGrantId?: string,
): Promise<void> {
  const { iss: _iss, sub: _sub, client_id: _clientId, jti, iat, exp, aud: audience, scope, cnf: _cnf, authorization_details: _rar, ...extra } = payload;
  const aud = audience === userinfoAudience ? undefined : audience;
  await provider.AccessToken.adapter.upsert(
    jti,
    {
      jti,
      kind: 'AccessToken',
      iat,
      exp,
      clientId: token.clientId,
      accountId: token.accountId,
      grantId: token.grantId,
      ...(parentGrantId ? { parentGrantId } : {}),
      sessionUid: token.sessionUid,
      expiresWithSession: token.expiresWithSession,
      sid: token.sid,
      gty: token.gty,
      aud,
      scope,
      extra,
      ...(token.jkt ? { jkt: token.jkt } : {}),
      ...(token['x5t#S256'] ? { 'x5t#S256': token['x5t#S256'] } : {}),
    } as any,
    Math.max(1, exp - Math.floor(Date.now() / 1000)),
  );
}

function looksLikeJwt(value: string): boolean {
  try {
    return !!decodeProtectedHeader(value);
  } catch {
    return false;
  }
}

function unknownHandle(): string {
  return `unknown-${randomBytes(16).toString('base64url')}`;
}

const TOO_LARGE = Symbol('too large');

async function readBody(ctx: KoaContextWithOIDC): Promise<Record<string, unknown> | typeof TOO_LARGE | undefined> {
  const length = ctx.request.length;
  if (length !== undefined && length > BODY_LIMIT) return undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req) {
    received += (chunk as Buffer).length;
    if (received > BODY_LIMIT) return TOO_LARGE;
    chunks.push(chunk as Buffer);
  }
  const parsed = querystring.parse(Buffer.concat(chunks).toString('utf8'));
  return { ...parsed };
}
