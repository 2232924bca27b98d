/**
 * Maps what can go wrong talking to an IdP (openid-client and jose errors, network failures)
 * onto ConnectorError kinds with stable audit reasons. The detail is private (logs and audit
 * data); users and clients only ever see the generic message of the kind.
 */
import { errors as joseErrors } from 'jose';
import { ConnectorError } from '../connector.js';
import { UpstreamHttpError } from './oidc-http.js';

/** Authorization response `error` codes that mean the user or the IdP said no. */
const DENIAL_CODES = new Set(['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required']);
/** Codes that mean the IdP is having trouble. */
const UNAVAILABLE_CODES = new Set(['temporarily_unavailable', 'server_error']);

/** An `error=` answer on the callback (RFC 6749 §4.1.2.1). */
export function authorizationError(code: string, description: string | undefined): ConnectorError {
  const safeCode = /^[a-z0-9_]{1,64}$/i.test(code) ? code : 'invalid';
  const detail = `upstream error=${safeCode}${description ? `: ${description.slice(0, 200)}` : ''}`;
  if (DENIAL_CODES.has(safeCode)) return new ConnectorError('access_denied', safeCode === 'access_denied' ? 'upstream_access_denied' : `upstream_${safeCode}`, detail);
  if (UNAVAILABLE_CODES.has(safeCode)) return new ConnectorError('upstream_unavailable', `upstream_${safeCode}`, detail);
  return new ConnectorError('upstream_protocol', 'upstream_error', detail);
}

/** Anything thrown while discovering, redeeming the code, verifying or reading userinfo. */
export function toConnectorError(error: unknown, step: 'discovery' | 'token' | 'id_token' | 'userinfo'): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const chain = causeChain(error);
  const http = chain.find((e): e is UpstreamHttpError => e instanceof UpstreamHttpError);
  if (http) return new ConnectorError('upstream_unavailable', http.failure, `${step}: ${http.message}`, { cause: error });
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
  const messages = chain
    .map((e) => (e instanceof Error ? e.message : ''))
    .filter(Boolean)
    .join(' | ');
  const detail = `${step}: ${messages}`.slice(0, 500);

  if (codes.includes('OAUTH_TIMEOUT') || codes.includes('OAUTH_ABORT') || chain.some((e) => e instanceof joseErrors.JWKSTimeout))
    return new ConnectorError('upstream_unavailable', 'timeout', detail, { cause: error });

  const authError = chain.find((e) => (e as { code?: unknown }).code === 'OAUTH_AUTHORIZATION_RESPONSE_ERROR') as { error?: string; error_description?: string } | undefined;
  if (authError?.error) return authorizationError(authError.error, authError.error_description);

  const bodyError = chain.find((e) => (e as { code?: unknown }).code === 'OAUTH_RESPONSE_BODY_ERROR') as { error?: string; status?: number } | undefined;
  if (bodyError) {
    if ((bodyError.status ?? 0) >= 500 || bodyError.error === 'temporarily_unavailable') return new ConnectorError('upstream_unavailable', `${step}_server_error`, detail, { cause: error });
    return new ConnectorError('upstream_protocol', `${step}_error`, `${detail} (error=${String(bodyError.error).slice(0, 64)})`, { cause: error });
  }
  if (codes.includes('OAUTH_RESPONSE_IS_NOT_CONFORM') && /status code/.test(messages)) {
    const status = chain.map((e) => (e as { status?: unknown }).status).find((s): s is number => typeof s === 'number');
    if (step === 'discovery' || status === undefined || status >= 500) return new ConnectorError('upstream_unavailable', `${step}_server_error`, detail, { cause: error });
  }

  if (/"iss" \(issuer\) response parameter value/.test(messages)) return new ConnectorError('upstream_protocol', 'issuer_mismatch', detail, { cause: error });
  if (/response parameter "iss" \(issuer\) missing/.test(messages)) return new ConnectorError('upstream_protocol', 'issuer_missing', detail, { cause: error });
  if (/"issuer" property does not match|metadata issuer does not match/.test(messages) || (step === 'discovery' && codes.includes('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED')))
    return new ConnectorError('upstream_protocol', 'issuer_mismatch', detail, { cause: error });

  // Which claim (ID token) or attribute (userinfo body) a comparison failed on.
  const claim = chain
    .map((e) => (e as { cause?: { claim?: unknown; attribute?: unknown } }).cause)
    .map((c) => c?.claim ?? c?.attribute)
    .find((c): c is string => typeof c === 'string');
  if (codes.includes('OAUTH_JWT_CLAIM_COMPARISON_FAILED') || claim) {
    if (claim === 'nonce') return new ConnectorError('upstream_protocol', 'nonce_mismatch', detail, { cause: error });
    if (claim === 'iss') return new ConnectorError('upstream_protocol', 'issuer_mismatch', detail, { cause: error });
    if (claim === 'aud' || claim === 'azp') return new ConnectorError('upstream_protocol', 'audience_mismatch', detail, { cause: error });
    if (claim === 'sub') return new ConnectorError('upstream_protocol', 'subject_mismatch', detail, { cause: error });
    return new ConnectorError('upstream_protocol', 'claim_mismatch', detail, { cause: error });
  }
  if (codes.includes('OAUTH_JWT_TIMESTAMP_CHECK_FAILED')) return new ConnectorError('upstream_protocol', 'id_token_expired', detail, { cause: error });

  if (
    chain.some(
      (e) =>
        e instanceof joseErrors.JWKSNoMatchingKey ||
        e instanceof joseErrors.JWSSignatureVerificationFailed ||
        e instanceof joseErrors.JWKSMultipleMatchingKeys ||
        e instanceof joseErrors.JOSEAlgNotAllowed,
    )
  )
    return new ConnectorError('upstream_protocol', 'bad_signature', detail, { cause: error });
  if (chain.some((e) => e instanceof joseErrors.JWTClaimValidationFailed || e instanceof joseErrors.JWTExpired))
    return new ConnectorError('upstream_protocol', 'id_token_invalid', detail, { cause: error });

  // Metadata that cannot be read or used leaves the connector unusable for now: "unavailable".
  if (step === 'discovery') return new ConnectorError('upstream_unavailable', 'discovery_failed', detail, { cause: error });
  return new ConnectorError('upstream_protocol', `${step}_failed`, detail, { cause: error });
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current = error;
  while (current && typeof current === 'object' && chain.length < 6 && !chain.includes(current)) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}
