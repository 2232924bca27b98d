/** Migrations in order. A feature that adds tables appends its migration here. */
import { Initial1764547200000 } from './0001-initial.js';
import { ScimGroups1764633600000 } from './scim-groups.js';
import { ClaimProviderValues1764633600001 } from './claim-provider-values.js';
import { UserLinkLastIdentity1764720000000 } from './user-link-last-identity.js';

export const MIGRATIONS = [Initial1764547200000, ScimGroups1764633600000, ClaimProviderValues1764633600001, UserLinkLastIdentity1764720000000];
