/**
 * SAML sign-in end to end over loopback HTTP: the app (openid-client) → Herald → AuthnRequest
 * (HTTP-Redirect, signed by Herald, verified by the samlify IdP) → IdP → POST to the ACS →
 * Herald → app, then tokens. Also: the identity Herald derives (subject, profile, acr/amr,
 * attributes), encrypted assertions, and what the connector does when the IdP says no.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { redeem } from '../../peers/client.js';
import samlify from 'samlify';
import { CONNECTOR, followFailure, postToAcs, rejections, startSetup, toIdpAnswer, unb64, type Setup } from './saml-fixtures.js';
import { DEFAULT_USER, certBody } from '../../peers/saml-idp.js';
import { TestBrowser } from '../../support/browser.js';
import { DatabaseFlowStateStore } from '../../../src/connectors/flow-state.store.js';
import { ConnectorRegistry } from '../../../src/connectors/connector.registry.js';
import type { UpstreamIdentity } from '../../../src/connectors/connector.js';
import { UsersRepository } from '../../../src/users/users.repository.js';

describe('SAML connector: sign-in through a partner IdP', () => {
  let setup: Setup;

  beforeAll(async () => {
    setup = await startSetup({
      idpOptions: { requireSignedRequests: true },
      // Rotation: the IdP's next signing certificate is trusted beside the current one.
      idpSettings: (keys, idp) => ({ certificates: [idp.signer.certificate, keys.idpNext.certificate] }),
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
        transforms: ['partner-saml'], // transforms/partner-saml.ts: SAML groups/offices → roles/locations
      }),
    });
  });
  afterAll(() => setup?.stop());

  /** Signs in and returns the upstream identity Herald handed to the login pipeline. */
  async function signedInIdentity(): Promise<UpstreamIdentity> {
    setup.idp.settings = { sign: 'both' };
    const at = await toIdpAnswer(setup);
    const response = await fetch(at.form.action, { method: 'POST', body: new URLSearchParams(at.form.fields), redirect: 'manual' });
    const key = new URL(response.headers.get('location')!, setup.herald.issuer).searchParams.get('k')!;
    const outcome = (await setup.herald.app.get(DatabaseFlowStateStore).scoped('pending').peek(key)) as { identity: UpstreamIdentity };
    return outcome.identity;
  }

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
    // The API token's claims for the `trades` scope: roles and locations produced by the
    // partner-saml transform from the SAML attributes (groups: traders, desk-admins; office:
    // Zurich, London); given_name from the SAML givenName attribute through the account.
    expect(access).toMatchObject({ roles: ['desk-admin', 'trader'], locations: ['LON', 'ZRH'], given_name: 'Alice', scope: 'trades', client_id: 'web' });

    // The account is linked by (IdP entity ID, NameID); the upstream attributes are kept on the link.
    const users = new UsersRepository(herald.dataSource);
    const link = await users.findLink(CONNECTOR, `${idp.entityId}!alice@partner.test`);
    expect(link?.userId).toBe(access.sub);
    // AuthnContextClassRef → acr, mapped to amr (RFC 8176).
    const succeeded = (await herald.audit.find({ type: 'login.succeeded' })).filter((e) => e.userId === access.sub && e.connectorId === CONNECTOR);
    expect(succeeded.at(-1)?.data).toMatchObject({ amr: ['pwd'], acr: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' });
  });

  test('the identity: subject (IdP, NameID), profile from attribute hints, every attribute multi-valued by Name and FriendlyName, NameID and SessionIndex kept privately', async () => {
    const { idp } = setup;
    const identity = await signedInIdentity();
    expect(identity).toMatchObject({
      subject: `${idp.entityId}!alice@partner.test`,
      email: 'alice@partner.test',
      emailVerified: true, // trustEmail
      name: 'Alice', // attributes.name hint: displayName (absent), then givenName
      givenName: 'Alice',
      familyName: 'Partner',
      acr: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
      amr: ['pwd'],
      protocol: {
        kind: 'saml',
        issuer: idp.entityId,
        nameId: 'alice@partner.test',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        sessionIndex: '_session-alice-1',
        authnContext: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
        attributes: { 'http://schemas.partner.test/claims/groups': ['traders', 'desk-admins'], 'urn:oid:2.5.4.42': ['Alice'] },
        friendlyAttributes: { groups: ['traders', 'desk-admins'], office: ['Zurich', 'London'], mail: ['alice@partner.test'] },
      },
      private: { saml: { issuer: idp.entityId, sessionIndex: '_session-alice-1', nameId: { value: 'alice@partner.test', format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress' } } },
    });
    expect(identity.attributes).toMatchObject({
      'http://schemas.partner.test/claims/groups': ['traders', 'desk-admins'],
      groups: ['traders', 'desk-admins'],
      office: ['Zurich', 'London'],
      mail: ['alice@partner.test'],
      'urn:oid:0.9.2342.19200300.100.1.3': ['alice@partner.test'],
    });
    expect(Math.abs(identity.authTime! - Date.now() / 1000)).toBeLessThan(60);
  });

  test('the transform denies a partner user whose groups grant no role: access_denied, audited', async () => {
    const { herald, idp } = setup;
    idp.user = { ...DEFAULT_USER, nameId: 'mallory@partner.test', attributes: [{ name: 'http://schemas.partner.test/claims/groups', friendlyName: 'groups', values: ['contractors'] }] };
    try {
      const at = await toIdpAnswer(setup);
      const result = await postToAcs(setup, at);
      expect(result.page?.status).toBe(403);
      expect((await followFailure(setup, at, result)).callback?.searchParams.get('error')).toBe('access_denied');
      const denied = (await herald.audit.find({ type: 'login.denied' })).at(-1);
      expect(denied).toMatchObject({ connectorId: CONNECTOR, reason: 'transform_denied' });
      expect(JSON.stringify(denied?.data)).toContain(`no partner group of ${idp.entityId} grants a role`);
    } finally {
      idp.user = DEFAULT_USER;
    }
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
  test('the SP metadata at its stable URL parses in samlify and says what Herald expects', async () => {
    const { herald, keys } = setup;
    const response = await fetch(`${herald.issuer}/connectors/${CONNECTOR}/metadata`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
    const xml = await response.text();
    const sp = samlify.ServiceProvider({ metadata: xml });
    const base = `${herald.issuer}/connectors/${CONNECTOR}`;
    expect(sp.entityMeta.getEntityID()).toBe(`${base}/metadata`);
    expect(sp.entityMeta.getAssertionConsumerService('post')).toBe(`${base}/acs`);
    expect(sp.entityMeta.getSingleLogoutService('redirect')).toBe(`${base}/slo`);
    expect(sp.entityMeta.isAuthnRequestSigned()).toBe(true);
    expect(sp.entityMeta.isWantAssertionsSigned()).toBe(true);
    expect(certBody(String(sp.entityMeta.getX509Certificate('signing')))).toBe(certBody(keys.spSigning.certificate));
    // Only the published decryption key is advertised; the retiring one is still accepted (below).
    expect(certBody(String(sp.entityMeta.getX509Certificate('encryption')))).toBe(certBody(keys.spEncryptionNew.certificate));
    expect(xml).not.toContain(certBody(keys.spEncryptionOld.certificate));
    expect([sp.entityMeta.getNameIDFormat()].flat()).toEqual(['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress']);
    const validUntil = Date.parse(/validUntil="([^"]+)"/.exec(xml)![1]!);
    expect(validUntil).toBeGreaterThan(Date.now() + 6 * 86_400_000);
  });

  test.each([
    ['the published SP key', () => undefined],
    ['the retiring SP key (roll-over: two keys accepted)', () => setup.keys.spEncryptionOld.certificate],
  ])('an encrypted assertion (encrypted to %s) is accepted', async (_label, encryptTo) => {
    setup.idp.settings = { sign: 'both', encrypt: true, encryptTo: encryptTo() };
    const at = await toIdpAnswer(setup);
    const xml = unb64(at.form.fields.SAMLResponse!);
    expect(xml).toContain('EncryptedAssertion');
    expect(xml).not.toContain('alice@partner.test');
    const result = await postToAcs(setup, at);
    const tokens = await redeem(setup.app, result.callback!, at.start);
    expect(tokens.claims()!.email).toBe('alice@partner.test');
  });

  test('a response signed with the IdP\'s second configured certificate (rotation) is accepted', async () => {
    setup.idp.settings = { sign: 'both', signer: setup.keys.idpNext };
    const result = await postToAcs(setup, await toIdpAnswer(setup));
    expect(result.callback?.searchParams.get('code')).toBeTruthy();
  });

  test('a response with an XML declaration and line breaks in the base64 (as ADFS sends it) is accepted', async () => {
    setup.idp.settings = { sign: 'both' };
    const at = await toIdpAnswer(setup);
    const xml = `<?xml version="1.0" encoding="utf-8"?>${unb64(at.form.fields.SAMLResponse!)}`;
    const wrapped = Buffer.from(xml).toString('base64').replace(/(.{76})/g, '$1\r\n');
    const result = await postToAcs(setup, at, { SAMLResponse: wrapped });
    expect(result.callback?.searchParams.get('code')).toBeTruthy();
  });

  test('prompt=login asks the IdP to authenticate again (ForceAuthn)', async () => {
    setup.idp.settings = { sign: 'both' };
    await toIdpAnswer(setup, { params: { prompt: 'login' } });
    expect(setup.idp.authnRequests.at(-1)!.xml).toContain('ForceAuthn="true"');
    await toIdpAnswer(setup);
    expect(setup.idp.authnRequests.at(-1)!.xml).not.toContain('ForceAuthn="true"');
  });

  describe('Single Logout (SP-initiated, HTTP-Redirect)', () => {
    const connector = () => setup.herald.app.get(ConnectorRegistry).get(CONNECTOR)!;
    const RETURN_TO = 'http://127.0.0.1:9/app/bye';

    test('a signed LogoutRequest for the NameID and SessionIndex; the IdP\'s signed LogoutResponse returns the browser', async () => {
      const identity = await signedInIdentity();
      const url = await connector().logoutUrl!(identity, RETURN_TO);
      expect(url?.startsWith(`${setup.idp.sloUrl}?SAMLRequest=`)).toBe(true);
      expect(new URL(url!).searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');

      const browser = new TestBrowser();
      const done = await browser.go(url!, {}, (next) => next.startsWith(RETURN_TO));
      // The IdP (requireSignedRequests) verified Herald's signature, then answered.
      const received = setup.idp.logoutRequests.at(-1)!;
      expect(received.nameId).toBe('alice@partner.test');
      expect(received.xml).toContain('Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"');
      expect(received.xml).toMatch(/<(\w+):SessionIndex xmlns:\1="urn:oasis:names:tc:SAML:2.0:protocol">_session-alice-1<\/\1:SessionIndex>/);
      const back = done.hops.at(-1)!;
      expect(back.url.startsWith(`${setup.herald.issuer}/connectors/${CONNECTOR}/slo?SAMLResponse=`)).toBe(true);
      expect(back.status).toBe(303);
      expect(back.location).toBe(RETURN_TO);

      // The same LogoutResponse again: replay.
      const again = await fetch(back.url, { redirect: 'manual' });
      expect(again.status).toBe(400);
      expect((await rejections(setup.herald)).at(-1)?.reason).toBe('replay');
    });

    test('an unsigned LogoutResponse is refused (node-saml alone accepts it)', async () => {
      const identity = await signedInIdentity();
      const url = await connector().logoutUrl!(identity, RETURN_TO);
      const toIdp = await fetch(url!, { redirect: 'manual' });
      const answer = new URL(toIdp.headers.get('location')!);
      answer.searchParams.delete('Signature');
      answer.searchParams.delete('SigAlg');
      const response = await fetch(answer.href, { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect((await rejections(setup.herald)).at(-1)?.reason).toBe('signature_missing');
    });

    test('signing out of Herald (RP-initiated logout) ends the Herald session, then logs out at the IdP and returns to the app', async () => {
      const { herald, idp, app } = setup;
      idp.settings = { sign: 'both' };
      const at = await toIdpAnswer(setup);
      const result = await postToAcs(setup, at);
      const tokens = await redeem(app, result.callback!, at.start);
      const before = idp.logoutRequests.length;

      const logout = new URL(`${herald.issuer}/logout`);
      logout.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: RETURN_TO, state: 'bye-1' }).toString();
      const confirm = await at.browser.go(logout.href);
      const done = await at.browser.submit(confirm, { logout: 'yes' }, { id: 'op.logoutForm' }, (next) => next.startsWith(RETURN_TO));
      const hops = done.hops;
      // Herald → IdP SLO (signed LogoutRequest for this NameID/SessionIndex) → Herald /slo → app.
      expect(hops[0]!.location!.startsWith(`${idp.sloUrl}?SAMLRequest=`)).toBe(true);
      expect(idp.logoutRequests).toHaveLength(before + 1);
      expect(idp.logoutRequests.at(-1)!.nameId).toBe('alice@partner.test');
      expect(hops.at(-1)!.url.startsWith(`${herald.issuer}/connectors/${CONNECTOR}/slo?SAMLResponse=`)).toBe(true);
      expect(hops.at(-1)!.location).toBe(`${RETURN_TO}?state=bye-1`);
      // The Herald session is gone: the next authorization needs a new AuthnRequest to the IdP
      // (toIdpAnswer fails if the browser lands at the app without one).
      const requestsBefore = idp.authnRequests.length;
      const again = await toIdpAnswer(setup, { browser: at.browser });
      expect(idp.authnRequests).toHaveLength(requestsBefore + 1);
      expect(idp.authnRequests.at(-1)!.id).toBe(again.requestId);
    });

    test('without the sign-in\'s SAML session data there is no upstream logout URL (only the Herald session ends)', async () => {
      const identity = await signedInIdentity();
      expect(await connector().logoutUrl!({ subject: identity.subject }, RETURN_TO)).toBeUndefined();
    });
  });
});
