/**
 * SAML sign-in end to end over loopback HTTP: the app (openid-client) → Herald → AuthnRequest
 * (HTTP-Redirect, signed by Herald, verified by the samlify IdP) → IdP → POST to the ACS →
 * Herald → app, then tokens. Also: the identity Herald derives (subject, profile, acr/amr,
 * attributes), encrypted assertions, and what the connector does when the IdP says no.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { redeem } from '../../peers/client.js';
import { CONNECTOR, followFailure, postToAcs, rejections, startSetup, toIdpAnswer, type Setup } from './saml-fixtures.js';
import { UsersRepository } from '../../../src/users/users.repository.js';

describe('SAML connector: sign-in through a partner IdP', () => {
  let setup: Setup;

  beforeAll(async () => {
    setup = await startSetup({
      idpOptions: { requireSignedRequests: true },
      connector: (keys) => ({
        sp: {
          signing: keys.spSigning,
          decryption: [
            { ...keys.spEncryptionNew, publish: true },
            { ...keys.spEncryptionOld, publish: false },
          ],
        },
        nameIdFormat: 'emailAddress',
        requestedAuthnContext: { classRefs: ['urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'], comparison: 'minimum' },
        attributes: { name: ['displayName', 'givenName'] },
        trustEmail: true,
      }),
    });
  });
  afterAll(() => setup?.stop());

  test('app → Herald → signed AuthnRequest → IdP → ACS → app: tokens for the linked account', async () => {
    const { herald, idp, app } = setup;
    idp.settings = { sign: 'both' };
    const at = await toIdpAnswer(setup);

    // The AuthnRequest as the IdP received it: signed (samlify verified the query signature
    // against Herald's metadata), for this ACS, with the configured NameID policy and context.
    const request = idp.authnRequests.at(-1)!;
    expect(request.binding).toBe('redirect');
    expect(request.signatureVerified).toBe(true);
    expect(request.xml).toContain(`AssertionConsumerServiceURL="${herald.issuer}/connectors/${CONNECTOR}/acs"`);
    expect(request.xml).toContain(`Destination="${idp.ssoUrl}"`);
    expect(request.xml).toContain('Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"');
    expect(request.xml).toMatch(/RequestedAuthnContext[^>]*Comparison="minimum"/);
    expect(request.relayState).toBe(request.id);

    const result = await postToAcs(setup, at);
    expect(result.acs.status).toBe(303);
    expect(result.acs.location).toMatch(/^\/interaction\/[^/]+\/continue\?k=/);
    expect(result.callback).toBeDefined();
    expect(result.callback!.searchParams.get('error')).toBeNull();

    const tokens = await redeem(app, result.callback!, at.start);
    const jwks = createRemoteJWKSet(new URL(`${herald.issuer}/jwks`));
    const { payload: access } = await jwtVerify(tokens.access_token, jwks, { issuer: herald.issuer, audience: 'https://api.example.com/trading' });
    const idToken = tokens.claims()!;
    expect(access.sub).toBe(idToken.sub);
    expect(idToken).toMatchObject({ email: 'alice@partner.test', given_name: 'Alice', family_name: 'Partner' });

    // The account is linked by (IdP entity ID, NameID); the upstream attributes are kept on the link.
    const users = new UsersRepository(herald.dataSource);
    const link = await users.findLink(CONNECTOR, `${idp.entityId}!alice@partner.test`);
    expect(link?.userId).toBe(access.sub);
    // AuthnContextClassRef → acr, mapped to amr (RFC 8176).
    const succeeded = (await herald.audit.find({ type: 'login.succeeded' })).filter((e) => e.userId === access.sub && e.connectorId === CONNECTOR);
    expect(succeeded.at(-1)?.data).toMatchObject({ amr: ['pwd'], acr: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' });
  });

  test('the identity: every attribute multi-valued by Name and FriendlyName, NameID format, SessionIndex kept privately', async () => {
    const { herald, idp } = setup;
    const at = await toIdpAnswer(setup);
    await postToAcs(setup, at);
    const users = new UsersRepository(herald.dataSource);
    const link = await users.findLink(CONNECTOR, `${idp.entityId}!alice@partner.test`);
    expect(link?.lastAttributes).toMatchObject({
      'http://schemas.partner.test/claims/groups': ['traders', 'desk-admins'],
      groups: ['traders', 'desk-admins'],
      office: ['Zurich', 'London'],
      mail: ['alice@partner.test'],
      'urn:oid:0.9.2342.19200300.100.1.3': ['alice@partner.test'],
    });
  });

  test('the IdP answering with a non-Success status ends the sign-in with access_denied to the app', async () => {
    const { herald } = setup;
    const at = await toIdpAnswer(setup);
    const xml = Buffer.from(at.form.fields.SAMLResponse!, 'base64').toString('utf8');
    const refused = xml.replace('urn:oasis:names:tc:SAML:2.0:status:Success', 'urn:oasis:names:tc:SAML:2.0:status:Responder');
    const result = await postToAcs(setup, at, { SAMLResponse: Buffer.from(refused).toString('base64') });
    expect(result.page?.status).toBe(403);
    expect(result.page?.body).toContain('The sign-in was cancelled or refused.');
    const { callback } = await followFailure(setup, at, result);
    expect(callback?.searchParams.get('error')).toBe('access_denied');
    expect((await rejections(herald)).at(-1)?.reason).toBe('status_not_success');
  });
});
