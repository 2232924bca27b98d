/**
 * Disclosure integrity over the *signed* SD-JWT payload (RFC 9901 §7.1 steps 3–5), which
 * @sd-jwt/core does not enforce: every disclosure is referenced by exactly one digest, no digest
 * appears twice, a disclosed name never collides with a plaintext claim at the same level, object
 * disclosures have three elements and array ones two, `_sd` and `...` are never claim names, and
 * claims SD-JWT VC says must stay plaintext (`iss`, `nbf`, `exp`, `cnf`, `vct`, `status`…)
 * are never selectively disclosed.
 */
import { reject } from './presentation-rejected.js';

const RESERVED_TOP_LEVEL = new Set(['iss', 'nbf', 'exp', 'cnf', 'vct', 'vct#integrity', 'aka_vcts', 'status', '_sd_alg']);
const MAX_DEPTH = 32;

interface Disclosure {
  value: unknown[];
  used: boolean;
}

/**
 * @param signedPayload the issuer-signed JWT payload (not the library's unpacked claims)
 * @param disclosures the encoded disclosures as received
 * @param digest base64url digest with the credential's `_sd_alg`
 */
export function checkDisclosures(signedPayload: Record<string, unknown>, disclosures: string[], digest: (encoded: string) => string): void {
  const byDigest = new Map<string, Disclosure>();
  for (const encoded of disclosures) {
    const key = digest(encoded);
    if (byDigest.has(key)) reject('disclosure_duplicate', 'the same disclosure is presented twice');
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    } catch {
      reject('disclosure_malformed', 'a disclosure is not base64url JSON');
    }
    if (!Array.isArray(value) || (value.length !== 2 && value.length !== 3) || typeof value[0] !== 'string') {
      reject('disclosure_malformed', 'a disclosure is not [salt, (name,) value]');
    }
    byDigest.set(key, { value, used: false });
  }

  const seen = new Set<string>();
  const take = (key: unknown): Disclosure | undefined => {
    if (typeof key !== 'string') reject('sd_malformed', 'a digest is not a string');
    if (seen.has(key)) reject('digest_duplicate', 'a digest appears more than once in the credential');
    seen.add(key);
    const found = byDigest.get(key);
    if (found) found.used = true;
    return found; // undefined: a decoy, or a claim the holder did not disclose
  };

  const walk = (node: unknown, depth: number, topLevel: boolean): void => {
    if (depth > MAX_DEPTH) reject('sd_malformed', 'the credential nests too deeply');
    if (Array.isArray(node)) {
      for (const element of node) {
        if (element && typeof element === 'object' && !Array.isArray(element) && Object.hasOwn(element, '...')) {
          if (Object.keys(element).length !== 1) reject('sd_malformed', "an array digest object has keys besides '...'");
          const found = take((element as Record<string, unknown>)['...']);
          if (found) {
            if (found.value.length !== 2) reject('disclosure_malformed', 'an array element disclosure must have two elements');
            walk(found.value[1], depth + 1, false);
          }
        } else {
          walk(element, depth + 1, false);
        }
      }
      return;
    }
    if (!node || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    const names = new Set(Object.keys(object).filter((name) => name !== '_sd'));
    if (names.has('...')) reject('sd_malformed', "'...' used as a claim name");
    if (Object.hasOwn(object, '_sd')) {
      if (!Array.isArray(object._sd)) reject('sd_malformed', '_sd is not an array');
      for (const key of object._sd) {
        const found = take(key);
        if (!found) continue;
        if (found.value.length !== 3) reject('disclosure_malformed', 'an object property disclosure must have three elements');
        const name = found.value[1];
        if (typeof name !== 'string' || name === '_sd' || name === '...') reject('disclosure_malformed', `illegal disclosed claim name ${JSON.stringify(name)}`);
        if (names.has(name)) reject('claim_collision', `disclosed claim "${name}" already exists at its level`);
        if (topLevel && RESERVED_TOP_LEVEL.has(name)) reject('reserved_claim_disclosed', `"${name}" must not be selectively disclosable`);
        names.add(name);
        walk(found.value[2], depth + 1, false);
      }
    }
    for (const [name, value] of Object.entries(object)) if (name !== '_sd') walk(value, depth + 1, false);
  };

  walk(signedPayload, 0, true);
  for (const found of byDigest.values()) {
    if (!found.used) reject('disclosure_unreferenced', 'a disclosure is not referenced by any digest of the credential');
  }
}
