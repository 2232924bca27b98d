/**
 * Partner SAML IdP attributes → the `roles` and `locations` claims of our APIs.
 *
 * Partners send group memberships and office sites as SAML attributes; which attribute names they
 * use differs per IdP (ADFS and Entra send claim URIs, Shibboleth OIDs, Okta whatever the admin
 * typed), so each value is looked up under several Names and FriendlyNames. SAML attributes are
 * always multi-valued arrays. Bound to SAML connectors in config/herald.yaml:
 *
 *   connectors:
 *     - type: saml
 *       id: partner
 *       transforms: [partner-saml]
 */
import { defineTransform, strings, type SamlInput } from '@herald/transform';

/** Attribute Names or FriendlyNames that carry group (or role) memberships. */
const GROUP_ATTRIBUTES = [
  'groups',
  'http://schemas.partner.test/claims/groups',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
  'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
  'urn:oid:1.3.6.1.4.1.5923.1.1.1.7', // eduPersonEntitlement
  'memberOf',
];

/** Attribute Names or FriendlyNames that carry the user's office or site. */
const LOCATION_ATTRIBUTES = ['office', 'http://schemas.partner.test/claims/office', 'physicalDeliveryOfficeName', 'urn:oid:2.5.4.19', 'l', 'urn:oid:2.5.4.7'];

/** Partner group (lower-cased) → role in our APIs. Groups not listed grant nothing. */
const ROLE_OF_GROUP: Readonly<Record<string, string>> = {
  traders: 'trader',
  'desk-admins': 'desk-admin',
  viewers: 'viewer',
};

/** Office (lower-cased) → site code our APIs use. Offices not listed are left out. */
const SITE_OF_OFFICE: Readonly<Record<string, string>> = {
  zurich: 'ZRH',
  london: 'LON',
  'new york': 'NYC',
  singapore: 'SIN',
};

/** Every value of the first of `names` the assertion carries (by Name, then by FriendlyName). */
function values(saml: SamlInput, names: readonly string[]): string[] {
  for (const name of names) {
    if (Object.hasOwn(saml.attributes, name)) return strings(saml.attributes[name]);
    if (Object.hasOwn(saml.friendlyAttributes, name)) return strings(saml.friendlyAttributes[name]);
  }
  return [];
}

const mapped = (list: string[], table: Readonly<Record<string, string>>) =>
  [...new Set(list.map((v) => v.trim().toLowerCase()).filter((v) => Object.hasOwn(table, v)).map((v) => table[v]!))].sort();

export default defineTransform({
  protocols: ['saml'],
  run({ upstream }) {
    const saml = upstream.protocol;
    const roles = mapped(values(saml, GROUP_ATTRIBUTES), ROLE_OF_GROUP);
    if (roles.length === 0) return { deny: `no partner group of ${saml.issuer} grants a role` };
    const locations = mapped(values(saml, LOCATION_ATTRIBUTES), SITE_OF_OFFICE);
    return { claims: { roles, locations } };
  },
});
