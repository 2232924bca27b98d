/**
 * Wallet sign-in end to end: client app (openid-client) → Herald → scripted wallet → Herald →
 * client app, same-device and cross-device, signed and unsigned requests, two Herald instances
 * on one database, and what reaches tokens, accounts and the audit trail.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest } from '@sd-jwt/crypto-nodejs';
import { startHerald, type TestHerald } from '../../support/herald.js';
import { clientPeer, type ClientPeer } from '../../peers/client.js';
import { findLink } from '../../support/browser.js';
import {
  AGE_API,
  CLIENT_SECRET,
  REDIRECT,
  beginSignIn,
  finishInBrowser,
  heraldConfig,
  pollUntilDone,
  redeemAt,
  signedRequests,
  startWorld,
  walletConnector,
  type WalletWorld,
} from './wallet-world.js';

describe('wallet sign-in end to end', () => {
  let world: WalletWorld;
  let herald: TestHerald;
  let client: ClientPeer;

  beforeAll(async () => {
    world = await startWorld();
    herald = await startHerald((issuer) =>
      heraldConfig(issuer, [
        walletConnector(world, { id: 'wallet' }), // redirect_uri, by value, choose
        walletConnector(world, { id: 'wallet-same', flow: 'same_device', ...signedRequests(world, 'x509_hash', 'post') }),
        walletConnector(world, { id: 'wallet-cross', flow: 'cross_device', ...signedRequests(world, 'x509_hash', 'get') }),
        walletConnector(world, { id: 'wallet-ref', flow: 'same_device', unsignedRequest: 'by_reference' }),
        walletConnector(world, {
          id: 'wallet-pan',
          flow: 'same_device',
          subjectClaim: ['personal_administrative_number'],
          dcql: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', meta: { vct_values: ['urn:eudi:pid:1'] }, claims: [{ path: ['personal_administrative_number'] }, { path: ['given_name'] }] }] },
        }),
      ]),
    );
    client = await clientPeer(herald.issuer, 'app', CLIENT_SECRET, REDIRECT);
    world.wallet.store((await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk })).credential);
  });
  afterAll(async () => {
    await herald?.stop();
    await world?.stop();
  });

  const jwks = () => createRemoteJWKSet(new URL(`${herald.issuer}/jwks`));

  test('same-device: Herald redirects to the wallet, the wallet posts, the browser presents the response code and the app gets tokens', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-same');
    expect(begun.sameDevice).toMatch(/^openid4vp:\/\/\?client_id=x509_hash%3A/);
    const link = new URL(begun.sameDevice!);
    expect(link.searchParams.get('request_uri_method')).toBe('post');
    expect(link.searchParams.get('request_uri')).toMatch(/\/connectors\/wallet-same\/request\?id=/);

    const request = await world.wallet.resolve(begun.sameDevice!); // POST with wallet_metadata + wallet_nonce
    expect(request.transport).toBe('post');
    expect(request.client_id).toMatch(/^x509_hash:[A-Za-z0-9_-]{43}$/);
    expect(request.response_uri).toMatch(/\/connectors\/wallet-same\/response\?id=/);
    expect(Buffer.from(request.nonce, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(request.state, 'base64url').length).toBeGreaterThanOrEqual(16);

    const answer = await world.wallet.answer(request);
    expect(answer.status).toBe(200);
    const redirectUri = new URL(answer.body.redirect_uri);
    expect(redirectUri.pathname).toBe('/connectors/wallet-same/callback');
    expect(Buffer.from(redirectUri.searchParams.get('response_code')!, 'base64url').length).toBeGreaterThanOrEqual(16);

    const { callback } = await finishInBrowser(begun, redirectUri.href);
    expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    const tokens = await redeemAt(client, begun, callback!);
    const idToken = tokens.claims()!;
    expect(idToken.given_name).toBe('Erika');
    expect(idToken.family_name).toBe('Mustermann');
    const { payload: access } = await jwtVerify(tokens.access_token, jwks(), { issuer: herald.issuer, audience: AGE_API, typ: 'at+jwt' });
    expect(access.sub).toBe(idToken.sub);
    expect(access).toMatchObject({ given_name: 'Erika', family_name: 'Mustermann' });

    // The upstream subject is (issuer, holder key thumbprint); amr names the wallet.
    const [link1] = await herald.dataSource.query(`SELECT upstream_subject FROM user_links WHERE connector_id = 'wallet-same'`);
    expect(link1.upstream_subject).toMatch(/^https:\/\/pid-issuer\.test\|jkt:[A-Za-z0-9_-]{43}$/);
    const succeeded = await herald.audit.find({ type: 'login.succeeded' });
    expect(succeeded.find((e) => e.connectorId === 'wallet-same')?.data?.amr).toEqual(['wallet', 'pop']);
  });

  test('the response code works once, and only from the browser that started the sign-in', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-same');
    const answer = await world.wallet.answer(await world.wallet.resolve(begun.sameDevice!));
    const redirectUri = answer.body.redirect_uri as string;
    // Another browser (an attacker who fixed the session) gets nowhere with the code.
    const other = await beginSignIn(herald, client, 'wallet-same'); // a browser with its own interaction
    const stolen = await other.browser.go(redirectUri);
    expect(stolen.status).toBe(400);
    expect(stolen.body).toContain('started in another browser');
    // The code was used up by that attempt: the real browser cannot reuse it either.
    const again = await finishInBrowser(begun, redirectUri);
    expect(again.callback).toBeUndefined();
    expect(again.page.body).toContain('Sign-in failed');
    const rejected = await herald.audit.find({ type: 'wallet.presentation_rejected' });
    expect(rejected.some((e) => e.reason === 'response_code')).toBe(true);
  });

  test('cross-device: the QR code carries the request, the page polls, and continues once the wallet posted', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-cross');
    expect(begun.page!.headers.get('content-security-policy')).toMatch(/script-src 'nonce-[^']+'/);
    expect(begun.sameDevice).toBeUndefined();
    const qr = (await begun.qrCode())!;
    expect(qr).toMatch(/^openid4vp:\/\/\?client_id=x509_hash%3A.*&request_uri=/);
    const before = await pollUntilDone(begun, 1);
    expect(before.answers[0]).toMatchObject({ httpStatus: 200, status: 'pending' });
    expect(before.next).toBeUndefined();

    // request_uri: fetchable several times, by GET and by POST (a fresh signature with the wallet's nonce)
    const first = await world.wallet.resolve(qr);
    const second = await world.wallet.resolve(qr, { method: 'post' });
    const third = await world.wallet.resolve(qr);
    expect(first.transport).toBe('get');
    expect(second.transport).toBe('post');
    expect(second.wallet_nonce).toEqual(expect.any(String));
    expect(new Set([first.nonce, second.nonce, third.nonce]).size).toBe(1);

    const answer = await world.wallet.answer(third);
    expect(answer).toMatchObject({ status: 200, body: {} }); // no redirect_uri: the wallet is on another device
    const after = await pollUntilDone(begun);
    expect(after.next).toMatch(/\/connectors\/wallet-cross\/callback\?response_code=/);
    const { callback } = await finishInBrowser(begun, after.next!);
    const tokens = await redeemAt(client, begun, callback!);
    expect(tokens.claims()!.given_name).toBe('Erika');
    // Answered: the request object is no longer served.
    const gone = await fetch(new URL(qr).searchParams.get('request_uri')!);
    expect(gone.status).toBe(400);
    expect(await gone.json()).toMatchObject({ error: 'invalid_request_uri' });
  });

  test('choose: one page offers the QR code and the same-device button, each its own transaction', async () => {
    const begun = await beginSignIn(herald, client, 'wallet');
    const qr = (await begun.qrCode())!;
    expect(qr).toMatch(/^openid4vp:\/\/\?/);
    expect(begun.sameDevice).toMatch(/^openid4vp:\/\/\?/);
    const cross = await world.wallet.resolve(qr);
    const same = await world.wallet.resolve(begun.sameDevice!);
    expect(cross.transport).toBe('by_value');
    expect(cross.client_id).toBe(`redirect_uri:${cross.response_uri}`);
    expect(same.response_uri).not.toBe(cross.response_uri);
    expect(same.nonce).not.toBe(cross.nonce);
    const answer = await world.wallet.answer(same);
    expect(answer.body.redirect_uri).toEqual(expect.any(String));
    // The page's poll never hands out a successful same-device result (session fixation).
    const poll = await pollUntilDone(begun, 1);
    expect(poll.answers[0]).toMatchObject({ status: 'pending' });
    const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
    expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
  });

  test('an unsigned request object by reference (redirect_uri prefix) is served by GET, and POST is refused', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-ref');
    const request = await world.wallet.resolve(begun.sameDevice!);
    expect(request.transport).toBe('get');
    await expect(world.wallet.resolve(begun.sameDevice!, { method: 'post' })).rejects.toThrow(/invalid_request_uri_method/);
    const answer = await world.wallet.answer(request);
    const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
    expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
  });

  test('claims the query did not ask for appear nowhere, even when the wallet discloses them', async () => {
    const credential = world.wallet.store((await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk })).credential);
    const begun = await beginSignIn(herald, client, 'wallet-same');
    const request = await world.wallet.resolve(begun.sameDevice!);
    // Over-disclose: email and street address are not requested, but are valid disclosures bound by the KB-JWT.
    const extra = credential.disclosures.filter((d) => d.value[1] === 'email' || d.value[1] === 'street_address' || d.value[1] === 'address').map((d) => d.encoded);
    const query = request.dcql_query.credentials[0]!;
    const selection = world.wallet.select(query, credential);
    const presentation = await world.wallet.present({ credential, disclosures: selection.disclosures.filter((d) => d.value[1] !== 'address') }, request, { extra });
    const answer = await world.wallet.respond(request, { pid: [presentation] });
    expect(answer.status).toBe(200);
    const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
    const tokens = await redeemAt(client, begun, callback!);

    const everything = JSON.stringify([
      tokens.claims(),
      decodeJwt(tokens.access_token),
      await herald.audit.find({}),
      await herald.dataSource.query('SELECT * FROM users'),
      await herald.dataSource.query('SELECT * FROM user_links'),
      await herald.dataSource.query('SELECT * FROM flow_states'),
      await herald.dataSource.query('SELECT * FROM claim_snapshots'),
    ]);
    for (const undisclosed of ['erika@example.test', 'Heidestrasse', 'PAN-4711', 'street_address']) expect(everything).not.toContain(undisclosed);
    // The requested ones did arrive (the test would be empty otherwise).
    const [linkRow] = await herald.dataSource.query(`SELECT last_attributes FROM user_links WHERE connector_id = 'wallet-same' ORDER BY last_login_at DESC`);
    expect(JSON.parse(linkRow.last_attributes)).toEqual({
      given_name: 'Erika',
      family_name: 'Mustermann',
      birthdate: '1964-08-12',
      nationality: 'DE',
      address: { locality: 'Berlin' },
    });
  });

  test('a configured subject claim identifies the user as (issuer, claim value)', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-pan');
    const answer = await world.wallet.answer(await world.wallet.resolve(begun.sameDevice!));
    const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
    await redeemAt(client, begun, callback!);
    const rows = await herald.dataSource.query(`SELECT upstream_subject FROM user_links WHERE connector_id = 'wallet-pan'`);
    expect(rows).toEqual([{ upstream_subject: 'https://pid-issuer.test|personal_administrative_number:PAN-4711' }]);
  });

  test('credentials from an x5c issuer and from a JWKS-URL issuer are accepted', async () => {
    for (const peer of [world.x5cIssuer, world.remoteIssuer]) {
      const credential = world.wallet.store((await peer.issue({ holderJwk: world.wallet.holder.publicJwk })).credential);
      const begun = await beginSignIn(herald, client, 'wallet-same');
      const answer = await world.wallet.answer(await world.wallet.resolve(begun.sameDevice!), { credential });
      expect(answer).toMatchObject({ status: 200 });
      const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
      expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    }
  });

  test('a presentation made with @sd-jwt present() (another holder implementation) is accepted', async () => {
    const { credential } = await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk });
    const begun = await beginSignIn(herald, client, 'wallet-same');
    const request = await world.wallet.resolve(begun.sameDevice!);
    const holder = new SDJwtVcInstance({
      hasher: digest,
      kbSignAlg: 'ES256',
      kbSigner: async (data: string) => {
        const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, world.wallet.holder.privateKey as CryptoKey, Buffer.from(data));
        return Buffer.from(signature).toString('base64url');
      },
    });
    const presentation = await holder.present(
      credential,
      { given_name: true, family_name: true, birthdate: true, nationality: true, address: { locality: true } } as any,
      { kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce: request.nonce } } },
    );
    const answer = await world.wallet.respond(request, { pid: [presentation] });
    expect(answer).toMatchObject({ status: 200, body: { redirect_uri: expect.any(String) } });
  });

  test('a wallet error (the user declined) ends the sign-in with access_denied to the app', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-same');
    const request = await world.wallet.resolve(begun.sameDevice!);
    const post = await world.wallet.respondError(request, 'access_denied', 'user declined');
    expect(post.status).toBe(200);
    const failed = await finishInBrowser(begun, post.body.redirect_uri);
    expect(failed.page.status).toBe(403);
    expect(failed.page.body).toContain('Sign-in failed');
    const back = await finishInBrowser(begun, new URL(findLink(failed.page.body, /\/auth/), herald.issuer).href);
    expect(back.callback?.searchParams.get('error')).toBe('access_denied');
    const events = await herald.audit.find({ type: 'login.failed' });
    expect(events.some((e) => e.connectorId === 'wallet-same' && e.reason === 'wallet_error')).toBe(true);
  });

  test('any instance can serve the request and take the response; the browser finishes on the first', async () => {
    const second = await startHerald((issuer) => heraldConfig(issuer, [walletConnector(world, { id: 'wallet-same', flow: 'same_device', ...signedRequests(world, 'x509_hash', 'post') })]), {
      shareDatabaseWith: herald,
    });
    try {
      const begun = await beginSignIn(herald, client, 'wallet-same');
      const request = await world.wallet.resolve(begun.sameDevice!, { rewriteOrigin: second.issuer });
      const answer = await world.wallet.answer({ ...request, response_uri: request.response_uri.replace(herald.issuer, second.issuer) });
      expect(answer.status).toBe(200);
      const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
      expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    } finally {
      await second.stop();
    }
  });
});
