/**
 * Attacks on the assertion consumer service. Each case starts a real sign-in, takes the genuine
 * response the partner IdP (samlify, its own key) built for it, turns it into the attack, and
 * posts it to Herald's ACS the way a browser would. Every one must end without a code for the app
 * (access_denied where the sign-in is known) and with a `saml.assertion_rejected` audit event
 * naming the check that refused it.
 *
 * Herald runs four connectors on the same IdP, one per signing policy: `partner` (assertion
 * signature required), `p-response`, `p-both`, `p-either`; and `p-comments` (allowXmlComments).
 */
import { UsersRepository } from '../../../src/users/users.repository.js';
import type { ResponseSettings } from '../../peers/saml-idp.js';
import { b64, followFailure, postToAcs, rejections, startSetup, toIdpAnswer, unb64, type Setup } from './saml-fixtures.js';
import * as A from './saml-attacks.js';

const SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const RSA_1_5 = 'http://www.w3.org/2001/04/xmlenc#rsa-1_5';

describe('SAML connector: attacks on the ACS are refused, naming the check', () => {
  let setup: Setup;

  beforeAll(async () => {
    setup = await startSetup({
      connector: (keys) => ({ sp: { decryption: [{ ...keys.spEncryptionNew }] } }),
      more: () => ({
        'p-response': { requireSignature: 'response' },
        'p-both': { requireSignature: 'both' },
        'p-either': { requireSignature: 'either' },
        'p-comments': { allowXmlComments: true },
      }),
    });
  });
  afterAll(() => setup?.stop());

  interface Attack {
    connector?: string;
    /** What the IdP signs and how (default: both signatures). */
    idp?: Partial<ResponseSettings>;
    /** Turns the genuine Response XML into the attack. */
    mutate?: (xml: string, context: { requestId: string }) => string | Promise<string>;
    /** Replaces the whole SAMLResponse field. */
    field?: (xml: string) => string;
  }

  /** Runs one attack end to end; returns the audited reason and the app's outcome. */
  async function attack(a: Attack): Promise<{ reason: string | null | undefined; detail?: string; appError?: string | null; code?: string | null; acsStatus: number }> {
    const { herald, idp } = setup;
    idp.settings = { sign: 'both', ...a.idp };
    const at = await toIdpAnswer(setup, { connector: a.connector });
    const genuine = unb64(at.form.fields.SAMLResponse!);
    const xml = a.mutate ? await a.mutate(genuine, { requestId: at.requestId }) : genuine;
    const before = (await rejections(herald)).length;
    const result = await postToAcs(setup, at, { SAMLResponse: a.field ? a.field(xml) : b64(xml) });
    const events = await rejections(herald);
    expect(events.length).toBe(before + 1); // exactly one refusal audited
    let appError: string | null | undefined;
    if (result.page && result.page.status === 403) appError = (await followFailure(setup, at, result)).callback?.searchParams.get('error');
    return { reason: events.at(-1)?.reason, detail: events.at(-1)?.detail, appError, code: result.callback?.searchParams.get('code'), acsStatus: result.acs.status };
  }

  async function expectRefused(a: Attack, reason: string): Promise<void> {
    const outcome = await attack(a);
    expect({ reason: outcome.reason, code: outcome.code ?? null }).toEqual({ reason, code: null });
    // The sign-in is known from InResponseTo/RelayState: the app hears access_denied, no 500 anywhere.
    expect(outcome.appError).toBe('access_denied');
    expect(outcome.acsStatus).toBeLessThan(500);
  }

  test('control: the genuine response is accepted by every connector', async () => {
    for (const connector of ['partner', 'p-response', 'p-both', 'p-either']) {
      setup.idp.settings = { sign: 'both' };
      const at = await toIdpAnswer(setup, { connector });
      const result = await postToAcs(setup, at);
      expect(result.callback?.searchParams.get('code')).toBeTruthy();
    }
  });

  describe('signatures', () => {
    test.each(['partner', 'p-response', 'p-both', 'p-either'])('unsigned Response and Assertion (%s) → signature_missing', async (connector) => {
      await expectRefused({ connector, mutate: A.stripSignatures }, 'signature_missing');
    });

    test.each([
      ['partner', ['Assertion']],
      ['p-response', ['Response']],
      ['p-both', ['Assertion', 'Response']],
      ['p-either', ['Assertion']],
    ] as const)('signed by a key that is not configured, its certificate in KeyInfo (%s) → signature_invalid', async (connector, targets) => {
      const { attacker } = setup.keys;
      await expectRefused(
        {
          connector,
          mutate: (xml) => {
            let forged = A.setNameId(A.stripSignatures(xml), A.EVIL_NAMEID);
            for (const target of targets) forged = A.sign(forged, target, attacker.key, attacker.certificate);
            return forged;
          },
        },
        'signature_invalid',
      );
    });

    test('a genuine assertion signature next to an attacker-signed Response → signature_invalid (a present signature must verify)', async () => {
      const { attacker } = setup.keys;
      await expectRefused(
        { idp: { sign: 'assertion' }, mutate: (xml) => A.sign(A.setAttribute(xml, 'Response', 'Destination', 'https://evil.test/acs'), 'Response', attacker.key, attacker.certificate) },
        'signature_invalid',
      );
    });

    test.each([
      ['partner', 'assertion'],
      ['p-response', 'response'],
      ['p-both', 'both'],
    ] as const)('NameID changed after signing (%s, IdP signs %s) → signature_invalid', async (connector, sign) => {
      await expectRefused({ connector, idp: { sign }, mutate: (xml) => A.setNameId(xml, A.EVIL_NAMEID) }, 'signature_invalid');
    });

    test('an RSA-SHA1 signature by the trusted IdP key → sha1_not_allowed', async () => {
      await expectRefused({ idp: { signatureAlgorithm: SHA1 } }, 'sha1_not_allowed');
    });
  });

  describe('XML signature wrapping', () => {
    test.each(Object.keys(A.XSW_ASSERTION).flatMap((name) => [[name, 'partner'], [name, 'p-either']]))('%s (%s) → signature_wrapping', async (name, connector) => {
      await expectRefused({ connector, idp: { sign: 'assertion' }, mutate: A.XSW_ASSERTION[name]! }, 'signature_wrapping');
    });

    test.each(Object.keys(A.XSW_RESPONSE))('%s (p-response) → signature_wrapping', async (name) => {
      await expectRefused({ connector: 'p-response', idp: { sign: 'response' }, mutate: A.XSW_RESPONSE[name]! }, 'signature_wrapping');
    });
  });

  describe('comment injection into NameID', () => {
    const user = { nameId: 'user@partner.test.evil.com', nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', attributes: [] };

    test('user@partner.test<!---->.evil.com (signed) → xml_comment', async () => {
      await expectRefused({ idp: { user }, mutate: (xml) => A.injectComment(xml, 'user@partner.test') }, 'xml_comment');
    });

    test('with comments allowed, the whole value is the subject, never user@partner.test', async () => {
      const { herald, idp } = setup;
      idp.settings = { sign: 'both', user };
      const at = await toIdpAnswer(setup, { connector: 'p-comments' });
      const xml = A.injectComment(unb64(at.form.fields.SAMLResponse!), 'user@partner.test');
      expect(xml).toContain('>user@partner.test<!---->.evil.com<');
      const result = await postToAcs(setup, at, { SAMLResponse: b64(xml) });
      expect(result.callback?.searchParams.get('code')).toBeTruthy();
      const users = new UsersRepository(herald.dataSource);
      expect(await users.findLink('p-comments', `${idp.entityId}!user@partner.test.evil.com`)).not.toBeNull();
      expect(await users.findLink('p-comments', `${idp.entityId}!user@partner.test`)).toBeNull();
    });
  });

  describe('audience, destination, recipient, issuer, time', () => {
    const past = (ms: number) => new Date(Date.now() - ms).toISOString();
    const future = (ms: number) => new Date(Date.now() + ms).toISOString();

    test.each([
      ['wrong Audience', 'audience_mismatch', { audience: 'https://other-sp.test/' }],
      ['wrong Destination', 'destination_mismatch', { destination: 'https://other-sp.test/acs' }],
      ['wrong SubjectConfirmationData Recipient', 'recipient_mismatch', { recipient: 'https://other-sp.test/acs' }],
      ['another Issuer (signed with the trusted key)', 'issuer_mismatch', { issuer: 'https://other-idp.test/' }],
      ['expired (Conditions and SubjectConfirmationData ended 10 min ago)', 'expired', { notBefore: past(20 * 60_000), notOnOrAfter: past(10 * 60_000), scdNotOnOrAfter: past(10 * 60_000) }],
      ['expired SubjectConfirmationData, Conditions still valid', 'expired', { scdNotOnOrAfter: past(10 * 60_000) }],
      ['not yet valid (NotBefore in 10 min)', 'not_yet_valid', { notBefore: future(10 * 60_000) }],
      ['not yet valid SubjectConfirmationData', 'not_yet_valid', { scdNotBefore: future(10 * 60_000) }],
    ] as const)('%s → %s', async (_label, reason, over) => {
      await expectRefused({ idp: { over } }, reason);
    });

    // node-saml refuses unparsable times itself; a time without a zone it reads as local time. Herald
    // parses every time it compares strictly too (Date.parse gives NaN, and NaN comparisons are false).
    test.each([
      ['an unparsable SubjectConfirmationData NotOnOrAfter', { scdNotOnOrAfter: 'never' }],
      ['an unparsable Conditions NotOnOrAfter', { notOnOrAfter: '9999-99-99' }],
      ['a NotOnOrAfter without a time zone (local time is ambiguous)', { notOnOrAfter: future(5 * 60_000).replace('Z', '') }],
    ])('%s → assertion_invalid (not a valid SAML time)', async (_label, over) => {
      const outcome = await attack({ idp: { over } });
      expect(outcome.reason).toBe('assertion_invalid');
      expect(outcome.detail).toMatch(/is not a valid (SAML time|date)/);
      expect(outcome.appError).toBe('access_denied');
    });

    test('NotBefore 60 s ahead is within the 120 s clock skew (control)', async () => {
      setup.idp.settings = { sign: 'both', over: { notBefore: future(60_000) } };
      const result = await postToAcs(setup, await toIdpAnswer(setup));
      expect(result.callback?.searchParams.get('code')).toBeTruthy();
    });
  });

  describe('InResponseTo', () => {
    test('an InResponseTo Herald never issued → unknown_in_response_to', async () => {
      const outcome = await attack({ idp: { over: { inResponseTo: '_never-issued-by-herald' } } });
      expect(outcome.reason).toBe('unknown_in_response_to');
      expect(outcome.code ?? null).toBeNull();
      // RelayState still names the sign-in: it ends with access_denied for the app.
      expect(outcome.appError).toBe('access_denied');
    });

    test('no InResponseTo (IdP-initiated) while the connector does not allow it → unsolicited_response', async () => {
      await expectRefused({ idp: { over: { inResponseTo: null } } }, 'unsolicited_response');
    });

    test('SubjectConfirmationData answers another request than the Response → in_response_to_mismatch', async () => {
      const other = await toIdpAnswer(setup);
      await expectRefused({ idp: { over: { scdInResponseTo: other.requestId } } }, 'in_response_to_mismatch');
    });
  });

  describe('encryption', () => {
    test('rsa-1_5 key transport → algorithm_not_allowed', async () => {
      await expectRefused({ idp: { encrypt: true, keyEncryptionAlgorithm: RSA_1_5 } }, 'algorithm_not_allowed');
    });

    test('encrypted to a key Herald does not have → decryption_failed', async () => {
      await expectRefused({ idp: { encrypt: true, encryptTo: setup.keys.attacker.certificate } }, 'decryption_failed');
    });
  });

  test('a response for another browser\'s sign-in signs nobody in there (login CSRF)', async () => {
    const { herald, idp } = setup;
    idp.settings = { sign: 'both' };
    // The attacker runs a sign-in in their own browser and gets a genuine response for it ...
    const attackers = await toIdpAnswer(setup);
    // ... and makes the victim's browser post it (the victim has a sign-in of their own in progress).
    const victims = await toIdpAnswer(setup);
    const succeededBefore = (await herald.audit.find({ type: 'login.succeeded' })).length;
    const result = await postToAcs(setup, { browser: victims.browser, form: attackers.form });
    expect(result.callback).toBeUndefined();
    expect(result.page?.status).toBe(400);
    expect(result.page?.body).toContain('started in another browser');
    // Nothing was issued to anyone: the attacker's interaction never got its hand-over either.
    expect(await herald.audit.find({ type: 'login.succeeded' })).toHaveLength(succeededBefore);
  });
});
