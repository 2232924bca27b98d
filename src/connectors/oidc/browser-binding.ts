/**
 * Binds an upstream sign-in to the browser that started it: a random value in a cookie scoped to
 * the connector's routes, whose SHA-256 is stored with the flow state. A callback that arrives in
 * another browser (a leaked or planted callback URL) is refused before the code is redeemed.
 * The cookie's name carries a tag of the state, so parallel sign-ins in two tabs do not collide.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

const PREFIX = 'herald_oidc_';

export function newBinding(): { value: string; hash: string } {
  const value = randomBytes(32).toString('base64url');
  return { value, hash: hashBinding(value) };
}

export function hashBinding(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of a presented cookie value with the stored hash. */
export function bindingMatches(value: string | undefined, storedHash: unknown): boolean {
  if (!value || typeof storedHash !== 'string') return false;
  const presented = Buffer.from(hashBinding(value));
  const stored = Buffer.from(storedHash);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export function cookieName(state: string): string {
  return PREFIX + createHash('sha256').update(state).digest('base64url').slice(0, 16);
}

export interface CookieScope {
  path: string;
  secure: boolean;
  maxAgeSeconds: number;
}

export function setBindingCookie(res: Response, state: string, value: string, scope: CookieScope): void {
  res.append('set-cookie', serialize(cookieName(state), value, scope, scope.maxAgeSeconds));
}

export function clearBindingCookie(res: Response, name: string, scope: CookieScope): void {
  res.append('set-cookie', serialize(name, '', scope, 0));
}

/** This connector's binding cookies the browser sent (Express does not parse cookies itself). */
export function bindingCookies(req: Request): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name.startsWith(PREFIX) && /^[A-Za-z0-9_-]{1,100}$/.test(value)) found.set(name, value);
  }
  return found;
}

function serialize(name: string, value: string, scope: CookieScope, maxAge: number): string {
  return `${name}=${value}; Path=${scope.path}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${scope.secure ? '; Secure' : ''}`;
}
