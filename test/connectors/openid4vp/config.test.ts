/**
 * Config validation of the openid4vp connector: every rule names the dotted key it concerns.
 */
import { validateConfig } from '../../../src/config/config.loader.js';
import { ConfigError } from '../../../src/config/config.errors.js';
import { baseConfig } from '../../support/herald.js';

const ISSUER = 'https://issuer.example';
const JWKS = { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] };

const wallet = (overrides: Record<string, unknown> = {}) => ({
  id: 'wallet',
  type: 'openid4vp',
  name: 'EU Wallet',
  clientIdPrefix: 'redirect_uri',
  dcql: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', meta: { vct_values: ['urn:eudi:pid:1'] }, claims: [{ path: ['given_name'] }, { path: ['birthdate'] }] }] },
  trustedIssuers: [{ issuer: ISSUER, jwks: JWKS }],
  ...overrides,
});

function problems(connector: Record<string, unknown>): string[] {
  try {
    validateConfig({ ...baseConfig('http://127.0.0.1:1'), connectors: [connector] }, { env: {} });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

describe('openid4vp connector config', () => {
  test('a minimal development config is valid and gets secure defaults', () => {
    const loaded = validateConfig({ ...baseConfig('http://127.0.0.1:1'), connectors: [wallet()] }, { env: {} });
    const connector = loaded.config.connectors[0] as any;
    expect(connector).toMatchObject({
      keyBindingRequired: true,
      flow: 'choose',
      walletUrl: 'openid4vp://',
      transactionTtlSeconds: 300,
      keyBindingMaxAgeSeconds: 300,
      requireCredentialExpiry: true,
      statusList: { enabled: true, required: false, allowHttp: false, allowPrivateNetwork: false, timeoutMs: 3000, maxBytes: 262144 },
    });
  });

  test.each([
    ['a DCQL query that does not parse', { dcql: { credentials: [{ id: 'a b', format: 'dc+sd-jwt' }] } }, /^connectors\[0\]\.dcql: invalid DCQL query: credentials\.0\.id/],
    ['two credential queries', { dcql: { credentials: [{ id: 'a', format: 'dc+sd-jwt', meta: { vct_values: ['x'] } }, { id: 'b', format: 'dc+sd-jwt', meta: { vct_values: ['y'] } }] } }, /^connectors\[0\]\.dcql\.credentials: expected exactly one/],
    ['an mdoc query', { dcql: { credentials: [{ id: 'a', format: 'mso_mdoc', meta: { doctype_value: 'x' } }] } }, /^connectors\[0\]\.dcql\.credentials\[0\]\.format: expected \"dc\+sd-jwt\"/],
    ['no vct_values', { dcql: { credentials: [{ id: 'a', format: 'dc+sd-jwt', meta: { vct_values: [] } }] } }, /^connectors\[0\]\.dcql/],
    ['an issuer with two key sources', { trustedIssuers: [{ issuer: ISSUER, jwks: JWKS, jwksUri: 'https://issuer.example/jwks' }] }, /^connectors\[0\]\.trustedIssuers\[0\]: expected exactly one of jwks, jwksUri or x5cTrustAnchors/],
    ['a duplicate issuer', { trustedIssuers: [{ issuer: ISSUER, jwks: JWKS }, { issuer: ISSUER, jwks: JWKS }] }, /^connectors\[0\]\.trustedIssuers\[1\]\.issuer: duplicate issuer/],
    ['an x509 prefix without a signing key', { clientIdPrefix: 'x509_san_dns' }, /^connectors\[0\]\.requestSigning: required for the x509_san_dns prefix/],
    ['no key binding and no subject claim', { keyBindingRequired: false }, /^connectors\[0\]\.subjectClaim: required when keyBindingRequired is false/],
    ['a subject claim the query does not request', { subjectClaim: ['email'] }, /^connectors\[0\]\.subjectClaim: expected one of the claim paths/],
    ['a query that waives holder binding while key binding is required', {
      dcql: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', require_cryptographic_holder_binding: false, meta: { vct_values: ['x'] } }] },
    }, /^connectors\[0\]\.dcql\.credentials\[0\]\.require_cryptographic_holder_binding: contradicts keyBindingRequired/],
    ['trusted_authorities in the query', { dcql: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', meta: { vct_values: ['x'] }, trusted_authorities: [{ type: 'aki', values: ['s9tIpPmhxdiuNkHMEWNpYim8S8Y'] }] }] } }, /^connectors\[0\]\.dcql\.credentials\[0\]\.trusted_authorities: use trustedIssuers/],
    ['an unknown field', { keyBinding: true }, /^connectors\[0\]\.keyBinding: unknown key/],
  ])('%s is refused with the dotted key', (_label, overrides, expected) => {
    const found = problems(wallet(overrides));
    expect(found.some((p) => expected.test(p))).toBe(true);
  });

  test('a subject claim among the requested claims is accepted', () => {
    expect(problems(wallet({ subjectClaim: ['birthdate'], keyBindingRequired: false, dcql: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', require_cryptographic_holder_binding: false, meta: { vct_values: ['x'] }, claims: [{ path: ['birthdate'] }] }] } }))).toEqual([]);
  });
});
