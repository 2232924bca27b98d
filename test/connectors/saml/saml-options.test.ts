/**
 * Connector options end to end: the HTTP-POST binding for AuthnRequests, IdP settings read from
 * signed IdP metadata (and kept when a refresh brings tampered metadata or is redirected), a connector whose
 * metadata is unreachable, the subject taken from a persistent attribute, SHA-1 as an explicit
 * opt-in, and an IdP without a logout endpoint.
 */
import { createServer, type Server } from 'node:http';
import { redeem } from '../../peers/client.js';
import { DEFAULT_USER, certBody, type SamlIdp } from '../../peers/saml-idp.js';
import { freePort } from '../../support/ports.js';
import { UsersRepository } from '../../../src/users/users.repository.js';
import { ConnectorRegistry } from '../../../src/connectors/connector.registry.js';
import type { SamlConnector } from '../../../src/connectors/saml/saml.connector.js';
import { TestBrowser } from '../../support/browser.js';
import { startAuthorization } from '../../peers/client.js';
import { followFailure, postToAcs, rejections, startSetup, toIdpAnswer, type Setup } from './saml-fixtures.js';
import { signMetadata } from './saml-attacks.js';

const EMPLOYEE_NUMBER = 'urn:oid:2.16.840.1.113730.3.1.3';

describe('SAML connector options', () => {
  let setup: Setup;
  // Serves the IdP's unsigned metadata for p-redirect (loopback http), or redirects elsewhere.
  const mirror = { idp: undefined as SamlIdp | undefined, redirect: false, redirectedHits: 0, server: undefined as Server | undefined, url: '' };

  beforeAll(async () => {
    const port = await freePort();
    mirror.url = `http://127.0.0.1:${port}`;
    mirror.server = createServer((req, res) => {
      if (req.url === '/elsewhere') {
        mirror.redirectedHits++;
        return res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(mirror.idp!.metadata());
      }
      if (mirror.redirect) return res.writeHead(302, { location: `${mirror.url}/elsewhere` }).end();
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(mirror.idp!.metadata());
    });
    await new Promise<void>((resolve) => mirror.server!.listen(port, '127.0.0.1', resolve));
    setup = await startSetup({
      idpOptions: { requireSignedRequests: true },
      // The IdP publishes metadata signed by a federation key that Herald trusts.
      beforeHerald: (idp, keys) => {
        idp.metadataOverride = signMetadata(idp.metadata(), keys.metadataSigner.key, keys.metadataSigner.certificate);
      },
      connector: (keys) => ({ sp: { signing: keys.spSigning } }),
      idpSettings: (_keys, idp) => ({ ssoBinding: 'post', certificates: [idp.signer.certificate] }),
      more: (keys, idp) => ({
        'p-metadata': {
          sp: { signing: keys.spSigning },
          idp: { entityId: idp.entityId, metadata: { url: idp.metadataUrl, signingCertificates: [keys.metadataSigner.certificate] } },
        },
        'p-redirect': (() => {
          mirror.idp = idp;
          return { sp: { signing: keys.spSigning }, idp: { entityId: idp.entityId, metadata: { url: `${mirror.url}/metadata`, requireSignature: false } } };
        })(),
        'p-unreachable': {
          idp: { entityId: idp.entityId, metadata: { url: `${idp.url}/no-such-metadata`, requireSignature: false } },
        },
        'p-attribute': { subjectAttribute: 'employeeNumber', sp: { signing: keys.spSigning } },
        'p-sha1': { allowSha1: true, sp: { signing: keys.spSigning } },
        'p-no-slo': { sp: { signing: keys.spSigning }, idp: { entityId: idp.entityId, ssoUrl: idp.ssoUrl, certificates: [idp.signer.certificate] } },
      }),
    });
  });
  afterAll(async () => {
    await setup?.stop();
    await new Promise<void>((resolve) => (mirror.server ? mirror.server.close(() => resolve()) : resolve()));
  });

  beforeEach(() => {
    setup.idp.settings = { sign: 'both' };
    setup.idp.user = DEFAULT_USER;
  });

  test('HTTP-POST binding: Herald auto-posts a signed, undeflated AuthnRequest; the sign-in completes', async () => {
    const at = await toIdpAnswer(setup);
    const request = setup.idp.authnRequests.at(-1)!;
    expect(request.binding).toBe('post');
    expect(request.signatureVerified).toBe(true); // samlify verified the enveloped XML signature
    expect(request.xml.startsWith('<')).toBe(true); // plain XML: the POST binding does not deflate
    expect(request.xml).toContain('SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"');
    expect(request.xml).toContain('DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"');
    expect(request.xml).not.toContain('RequestedAuthnContext'); // none unless configured
    const result = await postToAcs(setup, at);
    const tokens = await redeem(setup.app, result.callback!, at.start);
    expect(tokens.claims()!.email).toBe('alice@partner.test');
  });

  test('Herald\'s auto-post page to the IdP has a strict CSP and a no-script fallback', async () => {
    const browser = new TestBrowser();
    const start = await startAuthorization(setup.app, { scope: 'openid', idp_hint: 'partner' });
    const page = await browser.go(start.url);
    expect(page.body).toContain(`action="${setup.idp.ssoUrl}"`);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('<noscript>');
    expect(page.body).not.toMatch(/onload=/);
  });

  describe('IdP metadata', () => {
    test('certificates and the SSO endpoint come from signed metadata; the sign-in works', async () => {
      expect(setup.idp.metadataHits).toBeGreaterThanOrEqual(1);
      const result = await postToAcs(setup, await toIdpAnswer(setup, { connector: 'p-metadata' }));
      expect(result.callback?.searchParams.get('code')).toBeTruthy();
    });

    test('a refresh that brings tampered metadata fails and keeps the last good one', async () => {
      const { idp, keys } = setup;
      const connector = setup.herald.app.get(ConnectorRegistry).get('p-metadata') as SamlConnector;
      const good = idp.metadataOverride!;
      // The attacker swaps in their certificate after the federation signed the document.
      idp.metadataOverride = good.replace(certBody(idp.signer.certificate), certBody(keys.attacker.certificate));
      try {
        await expect(connector.refreshMetadata()).rejects.toThrow(/signature does not verify/);
        // Unsigned metadata is refused too when a signer is configured.
        idp.metadataOverride = idp.metadata();
        await expect(connector.refreshMetadata()).rejects.toThrow(/not signed/);
      } finally {
        idp.metadataOverride = good;
      }
      const result = await postToAcs(setup, await toIdpAnswer(setup, { connector: 'p-metadata' }));
      expect(result.callback?.searchParams.get('code')).toBeTruthy();
      // And a response signed by the attacker is still refused through this connector.
      idp.settings = { sign: 'both', signer: keys.attacker };
      const forged = await postToAcs(setup, await toIdpAnswer(setup, { connector: 'p-metadata' }));
      expect(forged.callback?.searchParams.get('code') ?? null).toBeNull();
      expect((await rejections(setup.herald)).at(-1)?.reason).toBe('signature_invalid');
    });

    test('a metadata download is never redirected: the refresh fails and the last good metadata stays', async () => {
      const connector = setup.herald.app.get(ConnectorRegistry).get('p-redirect') as SamlConnector;
      mirror.redirect = true;
      try {
        await expect(connector.refreshMetadata()).rejects.toThrow(/HTTP 302 redirect refused/);
      } finally {
        mirror.redirect = false;
      }
      expect(mirror.redirectedHits).toBe(0);
      const result = await postToAcs(setup, await toIdpAnswer(setup, { connector: 'p-redirect' }));
      expect(result.callback?.searchParams.get('code')).toBeTruthy();
    });

    test('a connector whose metadata cannot be loaded answers temporarily_unavailable, never a 500', async () => {
      const browser = new TestBrowser();
      const start = await startAuthorization(setup.app, { scope: 'openid', idp_hint: 'p-unreachable' });
      const page = await browser.go(start.url);
      expect(page.status).toBe(503);
      expect(page.body).toContain('not reachable right now');
      const { callback } = await followFailure(setup, { browser }, { acs: { status: 0, location: null, body: '' }, page });
      expect(callback?.searchParams.get('error')).toBe('temporarily_unavailable');
    });
  });

  describe('subject from a persistent attribute', () => {
    const withEmployeeNumber = (values: string[]) => ({
      ...DEFAULT_USER,
      nameId: `transient-${Math.random()}`,
      attributes: [...DEFAULT_USER.attributes!, { name: EMPLOYEE_NUMBER, friendlyName: 'employeeNumber', values }],
    });

    test('the account link uses the attribute value, so a changing NameID reaches the same account', async () => {
      const users = new UsersRepository(setup.herald.dataSource);
      const subjects: string[] = [];
      for (let i = 0; i < 2; i++) {
        setup.idp.user = withEmployeeNumber(['E-4711']);
        const at = await toIdpAnswer(setup, { connector: 'p-attribute' });
        const result = await postToAcs(setup, at);
        subjects.push((await redeem(setup.app, result.callback!, at.start)).claims()!.sub);
      }
      expect(subjects[0]).toBe(subjects[1]);
      expect((await users.findLink('p-attribute', 'E-4711'))?.userId).toBe(subjects[0]);
    });

    test.each([
      ['missing', []],
      ['multi-valued', ['E-1', 'E-2']],
    ])('a %s subject attribute → subject_missing', async (_label, values) => {
      setup.idp.user = withEmployeeNumber(values);
      const at = await toIdpAnswer(setup, { connector: 'p-attribute' });
      const result = await postToAcs(setup, at);
      expect((await rejections(setup.herald)).at(-1)?.reason).toBe('subject_missing');
      expect((await followFailure(setup, at, result)).callback?.searchParams.get('error')).toBe('access_denied');
    });
  });

  test('SHA-1 is accepted only where a connector opts in', async () => {
    setup.idp.settings = { sign: 'both', signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' };
    const accepted = await postToAcs(setup, await toIdpAnswer(setup, { connector: 'p-sha1' }));
    expect(accepted.callback?.searchParams.get('code')).toBeTruthy();
    await postToAcs(setup, await toIdpAnswer(setup, { connector: 'partner' }));
    expect((await rejections(setup.herald)).at(-1)?.reason).toBe('sha1_not_allowed');
  });

  test('an IdP without a SingleLogoutService: no upstream logout URL (only the Herald session ends)', async () => {
    const connector = setup.herald.app.get(ConnectorRegistry).get('p-no-slo')!;
    const session = { issuer: setup.idp.entityId, nameId: { value: 'alice@partner.test', format: null, nameQualifier: null, spNameQualifier: null }, sessionIndex: '_s' };
    expect(await connector.logoutUrl!({ subject: 'x', private: { saml: session } }, 'http://127.0.0.1:9/app/bye')).toBeUndefined();
    const withSlo = setup.herald.app.get(ConnectorRegistry).get('p-attribute')!;
    expect(await withSlo.logoutUrl!({ subject: 'x', private: { saml: session } }, 'http://127.0.0.1:9/app/bye')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/slo\?SAMLRequest=/);
  });
});
