/**
 * Corporate IdP groups → application roles, plus the business `user_id` from the Herald account.
 * Bound to the OIDC-style connectors (the dev connector and corporate OIDC IdPs) in config/herald.yaml.
 */
import { defineTransform, strings } from '@herald/transform';

/** Upstream group (lower-cased) → role in our APIs. Groups not listed here grant nothing. */
const ROLE_OF_GROUP: Readonly<Record<string, string>> = {
  admins: 'admin',
  traders: 'trader',
  'eu-desk': 'desk:eu',
  'us-desk': 'desk:us',
  viewers: 'viewer',
};

export default defineTransform({
  protocols: ['oidc'],
  run({ upstream, account }) {
    const groups = strings(upstream.attributes.groups).map((group) => group.toLowerCase());
    const roles = [...new Set(groups.filter((group) => Object.hasOwn(ROLE_OF_GROUP, group)).map((group) => ROLE_OF_GROUP[group]!))].sort();
    if (roles.length === 0) return { deny: 'none of the upstream groups grants a role' };
    return {
      claims: {
        roles,
        // The business id provisioned by HR (SCIM, Herald extension `userId`); Herald's own id otherwise.
        user_id: account.custom.userId ?? account.id,
      },
    };
  },
});
