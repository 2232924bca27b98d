/**
 * Issuer trust: which key verifies a credential, from configuration only — inline JWKS by kid, or
 * an x5c chain that ends at a configured anchor and whose leaf names the issuer.
 */
import { IssuerTrust } from '../../../src/connectors/openid4vp/issuer-trust.js';
import { PresentationRejected } from '../../../src/connectors/openid4vp/presentation-rejected.js';
import { makeCa, makeLeaf, type TestCa, type TestLeaf } from '../../peers/wallet-pki.js';
import { SdJwtIssuer } from '../../peers/sd-jwt-issuer.js';

const ISS = 'https://x5c-issuer.test';

async function checkOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PresentationRejected) return `${error.check}: ${error.detail}`;
    throw error;
  }
}

describe('issuer trust', () => {
  let ca: TestCa;
  let leaf: TestLeaf;
  let jwksIssuer: SdJwtIssuer;
  let trust: IssuerTrust;

  beforeAll(async () => {
    ca = await makeCa('CN=Issuer CA');
    leaf = await makeLeaf(ca, 'CN=issuer', [{ type: 'url', value: ISS }]);
    jwksIssuer = new SdJwtIssuer('https://jwks-issuer.test', 'k1');
    trust = new IssuerTrust(
      [
        { issuer: ISS, x5cTrustAnchors: [ca.pem] },
        { issuer: jwksIssuer.iss, jwks: jwksIssuer.jwks },
      ],
      { allowHttp: false },
    );
  });

  const keyFor = (iss: string, header: Record<string, unknown>) => checkOf(Promise.resolve().then(() => trust.keyFor(trust.entryFor(iss), header, 'issuer_untrusted')));

  test('a chain to the anchor, with the issuer as URI SAN, yields the leaf key', async () => {
    expect(await keyFor(ISS, { alg: 'ES256', x5c: [leaf.der] })).toBe('ok');
    expect(await keyFor(ISS, { alg: 'ES256', x5c: [leaf.der, ca.der] })).toBe('ok');
  });

  test('a DNS SAN equal to the issuer host also names it', async () => {
    const dnsLeaf = await makeLeaf(ca, 'CN=issuer', [{ type: 'dns', value: 'x5c-issuer.test' }]);
    expect(await keyFor(ISS, { alg: 'ES256', x5c: [dnsLeaf.der] })).toBe('ok');
  });

  test.each([
    ['a leaf for another issuer', async () => [(await makeLeaf(ca, 'CN=other', [{ type: 'url', value: 'https://other.test' }])).der], /does not name issuer/],
    ['an expired leaf', async () => [(await makeLeaf(ca, 'CN=old', [{ type: 'url', value: ISS }], { notBefore: new Date(Date.now() - 86400_000 * 10), notAfter: new Date(Date.now() - 86400_000) })).der], /not valid now/],
    ['a chain from another CA', async () => {
      const rogue = await makeCa('CN=Rogue');
      return [(await makeLeaf(rogue, 'CN=issuer', [{ type: 'url', value: ISS }])).der, rogue.der];
    }, /does not end at a trust anchor/],
    ['the anchor itself as a leaf', async () => [ca.der], /leaf certificate is a CA/],
    ['an empty x5c', async () => [], /malformed x5c/],
    ['garbage in x5c', async () => ['AAAA'], /cannot be parsed/],
  ])('%s is untrusted', async (_label, chain, detail) => {
    const result = await keyFor(ISS, { alg: 'ES256', x5c: await chain() });
    expect(result).toMatch(/^issuer_untrusted: /);
    expect(result).toMatch(detail);
  });

  test('keys come only from the kind of trust configured for the issuer', async () => {
    expect(await keyFor(ISS, { alg: 'ES256', kid: 'k1' })).toMatch(/has no x5c header/);
    expect(await keyFor(jwksIssuer.iss, { alg: 'ES256', x5c: [leaf.der] })).toMatch(/configured with keys, not X.509/);
    expect(await keyFor(jwksIssuer.iss, { alg: 'ES256', kid: 'k1' })).toBe('ok');
    expect(await keyFor(jwksIssuer.iss, { alg: 'ES256', kid: 'unknown' })).toMatch(/no matching issuer key/);
  });

  test('algorithms outside the allow-list and unknown issuers are refused', async () => {
    for (const alg of ['none', 'HS256', 'RS256', undefined]) expect(await keyFor(jwksIssuer.iss, { alg, kid: 'k1' })).toMatch(/not allowed/);
    expect(await checkOf(Promise.resolve().then(() => trust.entryFor('https://nobody.test')))).toMatch(/^issuer_untrusted: issuer https:\/\/nobody\.test is not trusted/);
    expect(await checkOf(Promise.resolve().then(() => trust.entryFor(undefined)))).toMatch(/^issuer_untrusted: credential has no iss/);
  });

  test('a JWKS URL must be https outside development', () => {
    expect(() => new IssuerTrust([{ issuer: 'https://i.test', jwksUri: 'http://i.test/jwks' }], { allowHttp: false })).toThrow(/jwksUri must be https/);
  });
});
