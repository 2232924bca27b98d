/**
 * Security headers on the pages oidc-provider renders itself (error page, logout confirmation):
 * the same policy as Herald's own pages — no framing, no external assets, no inline script.
 */
import { securityHeaders } from '../ui/layout.js';

const HEADERS = securityHeaders();

export function providerSecurityHeaders(ctx: { set(name: string, value: string): void; response: { get(name: string): string } }): void {
  const type = ctx.response.get('content-type') ?? '';
  if (type.includes('text/html')) {
    for (const [name, value] of Object.entries(HEADERS)) ctx.set(name, value);
  } else {
    ctx.set('x-content-type-options', 'nosniff');
  }
}
