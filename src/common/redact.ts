/**
 * Removes secrets from anything about to be logged or stored for audit: values under keys that
 * name a secret, and whole tokens (JWTs, long opaque strings) wherever they appear.
 */
const SECRET_KEY = /secret|password|passwd|token|assertion|authorization|cookie|private|(^|_)key$|^code$|verifier|credential|samlresponse|vp_token|^d$|client_assertion/i;
const JWT_LIKE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(~.*)?$/;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') {
    if (JWT_LIKE.test(value)) return '[redacted jwt]';
    return value.length > 512 ? `${value.slice(0, 512)}…` : value;
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => redact(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}
