/**
 * Claims Herald alone sets. Neither transforms, nor account attributes, nor claim providers can
 * produce them: a token's identity, audience, lifetime and binding are not configurable data.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'cnf',
  'client_id',
  'scope',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'sid',
  'azp',
  'at_hash',
  'c_hash',
  's_hash',
  'typ',
  'act',
  'may_act',
  'authorization_details',
]);
