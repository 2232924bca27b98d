/**
 * IdP metadata parsing (no Herald needed): a signed document is read only from what its signature
 * covers, and every way of tampering with it is refused.
 */
import { parseIdpMetadata, type ParseMetadataOptions } from '../../../src/connectors/saml/idp-metadata.parser.js';
import { SamlIdp, certBody } from '../../peers/saml-idp.js';
import { signMetadata } from './saml-attacks.js';
import { testKeys, type TestKeys } from './saml-fixtures.js';

describe('IdP metadata', () => {
  let idp: SamlIdp;
  let keys: TestKeys;
  let raw: string;
  let signed: string;
  let options: ParseMetadataOptions;

  beforeAll(async () => {
    keys = await testKeys();
    idp = await SamlIdp.start({ spMetadataUrl: 'http://127.0.0.1:9/unused' });
    raw = idp.metadata();
    signed = signMetadata(raw, keys.metadataSigner.key, keys.metadataSigner.certificate);
    options = { entityId: idp.entityId, signingCertificates: [keys.metadataSigner.certificate], requireSignature: true };
  });
  afterAll(() => idp?.close());

  test('signed metadata: certificates, endpoints by binding, NameID formats', () => {
    const metadata = parseIdpMetadata(signed, options);
    expect(metadata.signed).toBe(true);
    expect(metadata.certificates.map(certBody)).toEqual([certBody(idp.signer.certificate)]);
    expect(metadata.sso).toEqual([
      { binding: 'redirect', location: idp.ssoUrl },
      { binding: 'post', location: idp.ssoUrl },
    ]);
    expect(metadata.slo).toEqual([{ binding: 'redirect', location: idp.sloUrl }]);
    expect(metadata.nameIdFormats).toContain('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
    expect(metadata.validUntil).toBeGreaterThan(Date.now());
  });

  test('unsigned metadata is accepted only where no signature is required', () => {
    expect(parseIdpMetadata(raw, { entityId: idp.entityId, signingCertificates: [], requireSignature: false }).signed).toBe(false);
    expect(() => parseIdpMetadata(raw, options)).toThrow('metadata is not signed');
  });

  test('the entity is found inside an EntitiesDescriptor aggregate', () => {
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" Name="federation">${raw.replace(/^<\?xml[^?]*\?>/, '')}</md:EntitiesDescriptor>`;
    const metadata = parseIdpMetadata(aggregate, { entityId: idp.entityId, signingCertificates: [], requireSignature: false });
    expect(metadata.certificates).toHaveLength(1);
  });

  test.each([
    ['the IdP certificate swapped after signing', () => signed.replace(certBody(idp.signer.certificate), certBody(keys.attacker.certificate)), /signature does not verify/],
    ['signed by an attacker (their certificate in KeyInfo)', () => signMetadata(raw, keys.attacker.key, keys.attacker.certificate), /signature does not verify/],
    ['expired (validUntil in the past)', () => signMetadata(raw, keys.metadataSigner.key, keys.metadataSigner.certificate, { validUntil: '2020-01-01T00:00:00Z' }), /expired/],
    ['signed with RSA-SHA1', () => signMetadata(raw, keys.metadataSigner.key, keys.metadataSigner.certificate, { signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' }), /SHA-1/],
    ['with a DOCTYPE', () => `<!DOCTYPE x>${signed}`, /DTD/],
    ['not metadata at all', () => '<html xmlns="http://www.w3.org/1999/xhtml"/>', /not a SAML metadata document/],
  ])('refused: %s', (_label, make, message) => {
    expect(() => parseIdpMetadata(make(), options)).toThrow(message);
  });

  test('another entity ID than configured is refused', () => {
    expect(() => parseIdpMetadata(signed, { ...options, entityId: 'https://other-idp.test' })).toThrow(/not in the metadata/);
  });
});
