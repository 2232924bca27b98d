/**
 * APIs that Herald itself serves, protected by its own access tokens: the SCIM user store and
 * the admin API. They join `apis` after validation so that clients can list them
 * (`apis: [scim]`) and obtain tokens for them like for any other API.
 */
import type { ApiConfig } from './config.schema.js';

export const BUILTIN_API_IDS = ['scim', 'admin'] as const;

export const BUILTIN_SCOPES: Record<string, (typeof BUILTIN_API_IDS)[number]> = {
  'scim:read': 'scim',
  'scim:write': 'scim',
  'admin:read': 'admin',
  'admin:write': 'admin',
};

export function builtinApis(issuer: string): ApiConfig[] {
  return [
    { id: 'scim', name: 'Herald SCIM 2.0 user store', identifier: `${issuer}/scim/v2`, scopes: ['scim:read', 'scim:write'], accessTokenTtl: 300 },
    { id: 'admin', name: 'Herald admin API', identifier: `${issuer}/admin`, scopes: ['admin:read', 'admin:write'], accessTokenTtl: 300 },
  ];
}
