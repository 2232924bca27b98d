/**
 * Where oidc-provider's error code differs from the RFC's, Herald answers with the RFC's:
 * a grant type the client is not registered for is `unauthorized_client` (RFC 6749 §5.2), not
 * `invalid_request`.
 */
const NOT_ALLOWED_GRANT = 'requested grant type is not allowed for this client';

export function rfcErrorCodes(ctx: { status: number; body: unknown }): void {
  const body = ctx.body as { error?: string; error_description?: string } | undefined;
  if (ctx.status === 400 && body?.error === 'invalid_request' && body.error_description === NOT_ALLOWED_GRANT) {
    body.error = 'unauthorized_client';
  }
}
