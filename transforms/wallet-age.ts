/**
 * Wallet credential (e.g. an EUDI PID as SD-JWT VC) → `age_over_18` and `nationality`, for APIs
 * that need an age check and a country, not a birth date. Bound to openid4vp connectors whose
 * DCQL query asks for `birthdate` (or `age_equal_or_over.18`) and `nationality`/`nationalities`.
 *
 * Only claims the wallet disclosed and the query requested reach a transform
 * (`upstream.protocol.claims`); this one passes none of them through: the birth date stays here.
 */
import { defineTransform, type Claims, type ReadonlyJson } from '@herald/transform';

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const COUNTRY = /^[A-Z]{2}$/;

/** Whole years between an ISO 8601 full date and `today` (UTC), or undefined for anything else. */
function ageOn(birthdate: ReadonlyJson | undefined, today: Date): number | undefined {
  if (typeof birthdate !== 'string') return undefined;
  const match = FULL_DATE.exec(birthdate);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  // Reject dates that do not exist (2001-02-30 rolls over to March).
  if (parsed.getUTCFullYear() !== year || parsed.getUTCMonth() !== month - 1 || parsed.getUTCDate() !== day) return undefined;
  if (parsed.getTime() > today.getTime()) return undefined;
  let age = today.getUTCFullYear() - year;
  const beforeBirthday = today.getUTCMonth() < month - 1 || (today.getUTCMonth() === month - 1 && today.getUTCDate() < day);
  if (beforeBirthday) age -= 1;
  return age;
}

export default defineTransform({
  protocols: ['wallet'],
  run({ upstream }) {
    const claims = upstream.protocol.claims;
    const out: Claims = {};

    // An issuer-attested age statement wins over arithmetic on the birth date.
    const statements = claims.age_equal_or_over;
    const attested = statements && typeof statements === 'object' && !Array.isArray(statements) ? (statements as { readonly [k: string]: ReadonlyJson })['18'] : undefined;
    if (typeof attested === 'boolean') out.age_over_18 = attested;
    else {
      const age = ageOn(claims.birthdate, new Date());
      if (age !== undefined) out.age_over_18 = age >= 18;
    }

    const nationalities = Array.isArray(claims.nationalities) ? (claims.nationalities as readonly ReadonlyJson[]) : [claims.nationality];
    const nationality = nationalities.find((value): value is string => typeof value === 'string' && COUNTRY.test(value));
    if (nationality) out.nationality = nationality;

    return { claims: out };
  },
});
