/** oidc-provider's endpoints on Herald. Everything else is served by Nest. */
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  jwks: '/jwks',
  userinfo: '/userinfo',
  end_session: '/logout',
  introspection: '/introspect',
  revocation: '/revoke',
  pushed_authorization_request: '/par',
  backchannel_authentication: '/backchannel',
  code_verification: '/device',
  device_authorization: '/device/auth',
  registration: '/reg',
  challenge: '/challenge',
  credential: '/credential',
} as const;

const PROVIDER_PREFIXES = ['/.well-known/openid-configuration', ...Object.values(ROUTES)];

/** Whether a request path belongs to oidc-provider (the path itself or below it). */
export function isProviderPath(pathname: string): boolean {
  for (const prefix of PROVIDER_PREFIXES) {
    if (pathname === prefix || pathname.startsWith(`${prefix}/`)) return true;
  }
  return false;
}
