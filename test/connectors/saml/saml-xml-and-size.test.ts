/**
 * Parser and size attacks on the SAML endpoints: DTDs with external entities (proved harmless
 * with canaries: an HTTP server that counts requests and a FIFO that would block any reader),
 * oversized and malformed messages, and a 50 MB deflate bomb at both the ACS and the
 * HTTP-Redirect SingleLogoutService.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/ports.js';
import { b64, followFailure, postToAcs, rejections, startSetup, toIdpAnswer, unb64, type Setup } from './saml-fixtures.js';
import { deflateBomb, withExternalEntity } from './saml-attacks.js';

const LOGOUT_RESPONSE_HEAD =
  '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_bomb" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" InResponseTo="_x"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><x>';
const LOGOUT_RESPONSE_TAIL = '</x></samlp:LogoutResponse>';

describe('SAML connector: XML and size attacks', () => {
  let setup: Setup;
  let canary: Server;
  let canaryUrl: string;
  let canaryHits = 0;
  let dir: string;
  let fifo: string;
  let secretFile: string;
  const SECRET = `canary-secret-${Date.now()}`;

  beforeAll(async () => {
    setup = await startSetup();
    const port = await freePort();
    canary = createServer((req, res) => {
      canaryHits++;
      res.end(`<!ENTITY leak "${SECRET}">`);
    });
    await new Promise<void>((resolve) => canary.listen(port, '127.0.0.1', resolve));
    canaryUrl = `http://127.0.0.1:${port}/evil.dtd`;
    dir = mkdtempSync(join(tmpdir(), 'herald-xxe-'));
    fifo = join(dir, 'canary.fifo');
    execFileSync('mkfifo', [fifo]);
    secretFile = join(dir, 'secret.txt');
    writeFileSync(secretFile, SECRET);
  });
  afterAll(async () => {
    await setup?.stop();
    await new Promise<void>((resolve) => canary?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Nobody has the FIFO open for reading: opening its write end without blocking fails with ENXIO. */
  function fifoNeverOpened(): boolean {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENXIO';
    }
  }

  test.each([
    ['an external general entity (http) used in the Response', () => canaryUrl, false],
    ['an external parameter entity (http DTD)', () => canaryUrl, true],
    ['an external general entity on a file that blocks any reader', () => `file://${fifo}`, false],
    ['an external general entity on a secret file', () => `file://${secretFile}`, false],
  ] as const)('DOCTYPE with %s → dtd_forbidden; nothing fetched, nothing read', async (_label, systemId, parameterEntity) => {
    const { herald } = setup;
    setup.idp.settings = { sign: 'both' };
    const at = await toIdpAnswer(setup);
    const hostile = withExternalEntity(unb64(at.form.fields.SAMLResponse!), systemId(), { parameterEntity });
    expect(hostile).toMatch(/^<!DOCTYPE/);
    const result = await postToAcs(setup, at, { SAMLResponse: b64(hostile) });
    const events = await rejections(herald);
    expect(events.at(-1)?.reason).toBe('dtd_forbidden');
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(result.page?.body ?? '').not.toContain(SECRET);
    expect((await followFailure(setup, at, result)).callback?.searchParams.get('error')).toBe('access_denied');
    expect(canaryHits).toBe(0);
    expect(fifoNeverOpened()).toBe(true);
  });

  test('a DOCTYPE that declares an entity but never uses it is refused too (xmldom alone would accept it)', async () => {
    const at = await toIdpAnswer(setup);
    const xml = unb64(at.form.fields.SAMLResponse!).replace(/^<\?xml[^?]*\?>/, '');
    await postToAcs(setup, at, { SAMLResponse: b64(`<!DOCTYPE samlp:Response [<!ENTITY unused "x">]>${xml}`) });
    expect((await rejections(setup.herald)).at(-1)?.reason).toBe('dtd_forbidden');
  });

  test('a SAMLResponse above maxMessageBytes (300 kB) → message_too_large, before any parsing', async () => {
    const at = await toIdpAnswer(setup);
    const padded = unb64(at.form.fields.SAMLResponse!).replace('<samlp:Status>', `<samlp:Extensions><x xmlns="urn:x">${'A'.repeat(400_000)}</x></samlp:Extensions><samlp:Status>`);
    const result = await postToAcs(setup, at, { SAMLResponse: b64(padded) });
    const last = (await rejections(setup.herald)).at(-1);
    expect(last?.reason).toBe('message_too_large');
    expect((await followFailure(setup, at, result)).callback?.searchParams.get('error')).toBe('access_denied');
  });

  test.each([
    ['not base64', 'malformed_message', { SAMLResponse: '<samlp:Response>not base64</samlp:Response>' }],
    ['two SAMLResponse fields', 'malformed_message', null],
    ['base64 of text that is not XML', 'malformed_xml', { SAMLResponse: b64('hello') }],
    ['a LogoutResponse posted to the ACS', 'unexpected_message', { SAMLResponse: b64(`${LOGOUT_RESPONSE_HEAD}${LOGOUT_RESPONSE_TAIL}`) }],
  ] as const)('%s → %s, never a 500', async (_label, reason, fields) => {
    const at = await toIdpAnswer(setup);
    const action = at.form.action;
    const body = fields
      ? new URLSearchParams({ ...at.form.fields, ...fields })
      : new URLSearchParams([['SAMLResponse', at.form.fields.SAMLResponse!], ['SAMLResponse', at.form.fields.SAMLResponse!], ['RelayState', at.form.fields.RelayState!]]);
    const response = await fetch(action, { method: 'POST', body, redirect: 'manual' });
    expect(response.status).toBeLessThan(500);
    expect((await rejections(setup.herald)).at(-1)?.reason).toBe(reason);
  });

  describe('a 50 MB deflate bomb', () => {
    let bomb: { base64: string; compressedBytes: number };

    beforeAll(async () => {
      bomb = await deflateBomb(50 * 1024 * 1024, LOGOUT_RESPONSE_HEAD, LOGOUT_RESPONSE_TAIL);
    });

    test('posted to the ACS: the POST binding is never inflated, so it is refused as what it is (not XML text)', async () => {
      expect(bomb.compressedBytes).toBeLessThan(60_000);
      const at = await toIdpAnswer(setup);
      const result = await postToAcs(setup, at, { SAMLResponse: bomb.base64 });
      expect(result.acs.status).toBe(303);
      expect((await rejections(setup.herald)).at(-1)?.reason).toBe('malformed_message');
      expect((await followFailure(setup, at, result)).callback?.searchParams.get('error')).toBe('access_denied');
    });

    test('sent to the HTTP-Redirect SingleLogoutService: refused at the HTTP layer (the query exceeds the 16 KiB header limit); Herald keeps serving', async () => {
      const query = `SAMLResponse=${encodeURIComponent(bomb.base64)}`;
      expect(query.length).toBeGreaterThan(16_384);
      const response = await fetch(`${setup.herald.issuer}/connectors/partner/slo?${query}`, { redirect: 'manual' }).catch((error) => error as Error);
      if (response instanceof Response) expect(response.status).toBe(431);
      else expect(String(response.cause ?? response)).toMatch(/closed|reset|socket|terminated/i);
      expect((await fetch(`${setup.herald.issuer}/connectors/partner/metadata`)).status).toBe(200);
    });

    test('a bomb small enough to pass the header limit (inflating to ~10 MB) stops at the 100 kB inflate cap → message_too_large', async () => {
      const small = await deflateBomb(10 * 1024 * 1024, LOGOUT_RESPONSE_HEAD, LOGOUT_RESPONSE_TAIL);
      const query = `SAMLResponse=${encodeURIComponent(small.base64)}`;
      expect(query.length).toBeLessThan(16_000);
      const response = await fetch(`${setup.herald.issuer}/connectors/partner/slo?${query}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
      const last = (await rejections(setup.herald)).at(-1);
      expect(last?.reason).toBe('message_too_large');
      expect(last?.detail).toMatch(/inflates to more than 100000 bytes/);
    });
  });
});
