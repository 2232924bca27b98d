/**
 * OpenID Connect standard claims (Core §5.1) from a Herald account, and which scope releases
 * which of them (Core §5.4).
 */
import type { Account } from './account-attributes.js';

export const STANDARD_SCOPE_CLAIMS = {
  openid: ['sub'],
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

type Json = Record<string, unknown>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

export function standardClaims(account: Account): Json {
  const core = account.core as Json;
  const name = (core.name ?? {}) as Json;
  const phones = Array.isArray(core.phoneNumbers) ? (core.phoneNumbers as Json[]) : [];
  const addresses = Array.isArray(core.addresses) ? (core.addresses as Json[]) : [];
  const photos = Array.isArray(core.photos) ? (core.photos as Json[]) : [];
  const phone = phones.find((p) => p.primary) ?? phones[0];
  const address = addresses.find((a) => a.primary) ?? addresses[0];
  const claims: Json = {
    name: str(core.displayName) ?? str(name.formatted) ?? ([str(name.givenName), str(name.familyName)].filter(Boolean).join(' ') || undefined),
    given_name: str(name.givenName),
    family_name: str(name.familyName),
    middle_name: str(name.middleName),
    nickname: str(core.nickName),
    preferred_username: account.userName,
    profile: str(core.profileUrl),
    picture: str((photos.find((p) => p.primary) ?? photos[0])?.value),
    locale: str(core.locale),
    zoneinfo: str(core.timezone),
    email: account.email ?? undefined,
    email_verified: account.email ? account.emailVerified : undefined,
    phone_number: str(phone?.value),
    address: address
      ? {
          formatted: str(address.formatted),
          street_address: str(address.streetAddress),
          locality: str(address.locality),
          region: str(address.region),
          postal_code: str(address.postalCode),
          country: str(address.country),
        }
      : undefined,
  };
  for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
  return claims;
}
