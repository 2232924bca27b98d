/**
 * The request side of the protocol: signed request objects (JAR) and their rules, request_uri
 * GET/POST (wallet metadata, wallet_nonce), the x509_san_dns prefix on a Herald whose public host
 * is in the certificate, the wallet URL, what the response_uri accepts, and start-up refusals.
 */
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { calculateX509HashClientIdPrefixValue } from '@openid4vc/openid4vp';
import { startHerald, type TestHerald } from '../../support/herald.js';
import { clientPeer, type ClientPeer } from '../../peers/client.js';
import { makeLeaf } from '../../peers/wallet-pki.js';
import {
  CLIENT_SECRET,
  REDIRECT,
  beginSignIn,
  finishInBrowser,
  heraldConfig,
  redeemAt,
  signedRequests,
  startWorld,
  walletConnector,
  type WalletWorld,
} from './wallet-world.js';

describe('wallet requests', () => {
  let world: WalletWorld;
  let herald: TestHerald;
  let client: ClientPeer;

  beforeAll(async () => {
    world = await startWorld();
    world.wallet.store((await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk })).credential);
    // Herald's public host is "localhost", the dNSName of its request-signing certificate.
    herald = await startHerald((issuer) => ({
      ...heraldConfig(issuer.replace('127.0.0.1', 'localhost'), [
        walletConnector(world, { id: 'wallet', flow: 'same_device', ...signedRequests(world, 'x509_san_dns', 'get') }),
        walletConnector(world, { id: 'wallet-post', flow: 'same_device', ...signedRequests(world, 'x509_san_dns', 'post') }),
        walletConnector(world, { id: 'wallet-app', flow: 'same_device', walletUrl: 'https://wallet.example/authorize', ...signedRequests(world, 'x509_hash', 'get') }),
        walletConnector(world, { id: 'wallet-dev', flow: 'same_device' }),
      ]),
    }));
    client = await clientPeer(herald.config.issuer, 'app', CLIENT_SECRET, REDIRECT);
  });
  afterAll(async () => {
    await herald?.stop();
    await world?.stop();
  });

  const requestUriOf = (link: string) => new URL(link).searchParams.get('request_uri')!;

  test('x509_san_dns: the wallet checks certificate, SAN and response_uri host, and the sign-in completes', async () => {
    const begun = await beginSignIn(herald, client, 'wallet');
    expect(begun.sameDevice).toMatch(/^openid4vp:\/\/\?client_id=x509_san_dns%3Alocalhost&request_uri=http%3A%2F%2Flocalhost%3A/);
    expect(new URL(begun.sameDevice!).searchParams.has('request_uri_method')).toBe(false);
    const request = await world.wallet.resolve(begun.sameDevice!);
    expect(request.client_id).toBe('x509_san_dns:localhost');
    expect(new URL(request.response_uri).hostname).toBe('localhost');
    const answer = await world.wallet.answer(request);
    expect(answer.status).toBe(200);
    const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
    const tokens = await redeemAt(client, begun, callback!);
    expect(tokens.claims()!.given_name).toBe('Erika');
  });

  test('x509_san_dns: a KB-JWT for the bare DNS name (no prefix) is refused', async () => {
    const begun = await beginSignIn(herald, client, 'wallet');
    const answer = await world.wallet.answer(await world.wallet.resolve(begun.sameDevice!), { aud: 'localhost' });
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'kb_aud' } });
  });

  test('the request object: typed, signed with the x5c leaf, for the static wallet audience, expiring with the transaction', async () => {
    const begun = await beginSignIn(herald, client, 'wallet');
    const response = await fetch(requestUriOf(begun.sameDevice!), { redirect: 'manual' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/oauth-authz-req+jwt');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const jwt = await response.text();
    const header = decodeProtectedHeader(jwt);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'oauth-authz-req+jwt', x5c: [world.verifierLeaf.der] });
    const payload = decodeJwt(jwt);
    expect(payload).toMatchObject({
      aud: 'https://self-issued.me/v2',
      client_id: 'x509_san_dns:localhost',
      response_type: 'vp_token',
      response_mode: 'direct_post',
      dcql_query: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', require_cryptographic_holder_binding: true, multiple: false }] },
      client_metadata: { vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': expect.arrayContaining(['ES256']), 'kb-jwt_alg_values': expect.arrayContaining(['ES256']) } } },
    });
    expect(payload).not.toHaveProperty('request_uri_method');
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    expect(payload.exp! - payload.iat!).toBeGreaterThan(200);
    // Served again, unchanged, as often as asked.
    expect(await (await fetch(requestUriOf(begun.sameDevice!))).text()).toBe(jwt);
  });

  test('request_uri POST: a fresh signature with the wallet_nonce and, when named, the wallet issuer as audience', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-post');
    expect(new URL(begun.sameDevice!).searchParams.get('request_uri_method')).toBe('post');
    const first = await world.wallet.resolve(begun.sameDevice!, { walletNonce: 'nonce-one' });
    const second = await world.wallet.resolve(begun.sameDevice!, {
      walletNonce: 'nonce-two',
      walletMetadata: { issuer: 'https://wallet.example', vp_formats_supported: { 'dc+sd-jwt': {} }, unknown_parameter: true },
    });
    expect(first.wallet_nonce).toBe('nonce-one');
    expect(second.wallet_nonce).toBe('nonce-two');
    expect(second.aud).toBe('https://wallet.example');
    expect(first.nonce).toBe(second.nonce);
    // A wallet that sends no wallet_metadata (or only flattened, unknown fields) is served too.
    const bare = await fetch(requestUriOf(begun.sameDevice!), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/oauth-authz-req+jwt' },
      body: 'vp_formats_supported=%7B%7D',
    });
    expect(bare.status).toBe(200);
    expect(decodeJwt(await bare.text())).not.toHaveProperty('wallet_nonce');
    // A GET still works after POSTs, and the wallet can answer.
    const viaGet = await world.wallet.resolve(begun.sameDevice!, { method: 'get' });
    expect((await world.wallet.answer(viaGet)).status).toBe(200);
  });

  test.each([
    ['wallet_metadata that is not JSON', 'wallet_metadata=%7Bnope&wallet_nonce=n1', 'invalid_request'],
    ['wallet_metadata that is a JSON array', 'wallet_metadata=%5B%5D', 'invalid_request'],
    ['a wallet that cannot verify the signature algorithm', `wallet_metadata=${encodeURIComponent(JSON.stringify({ request_object_signing_alg_values_supported: ['RS256'] }))}`, 'invalid_request'],
    ['a wallet_nonce with spaces', 'wallet_nonce=a%20b', 'invalid_request'],
  ])('request_uri POST with %s is refused', async (_label, body, error) => {
    const begun = await beginSignIn(herald, client, 'wallet-post');
    const response = await fetch(requestUriOf(begun.sameDevice!), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error });
  });

  test('unknown request ids are invalid_request_uri', async () => {
    const response = await fetch(`${herald.config.issuer}/connectors/wallet/request?id=${'A'.repeat(22)}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request_uri' });
  });

  test('x509_hash: the client identifier is the hash of the leaf certificate, as the library computes it', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-app');
    const request = await world.wallet.resolve(begun.sameDevice!);
    const expected = await calculateX509HashClientIdPrefixValue({ x509Certificate: world.verifierLeaf.der, hash: (data) => createHash('sha256').update(data).digest() });
    expect(request.client_id).toBe(`x509_hash:${expected}`);
  });

  test('a configured wallet URL is the base of the link', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-app');
    expect(begun.sameDevice).toMatch(/^https:\/\/wallet\.example\/authorize\?client_id=x509_hash%3A/);
  });

  test('the response_uri takes form posts only, with single-valued parameters', async () => {
    const begun = await beginSignIn(herald, client, 'wallet-dev');
    const request = await world.wallet.resolve(begun.sameDevice!);
    const json = await fetch(request.response_uri, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vp_token: {}, state: request.state }) });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    const repeated = await fetch(request.response_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `vp_token=%7B%7D&vp_token=%7B%7D&state=${request.state}`,
    });
    expect(repeated.status).toBe(400);
    expect(repeated.headers.get('cache-control')).toBe('no-store');
    expect(await repeated.json()).toMatchObject({ error: 'invalid_request' });
    // Still unanswered: the real answer is accepted.
    expect((await world.wallet.answer(request)).status).toBe(200);
  });

  test('start-up refuses an x509_san_dns certificate without Herald\'s host, and development-only settings in production', async () => {
    const stranger = await makeLeaf(world.verifierCa, 'CN=elsewhere', [{ type: 'dns', value: 'elsewhere.example' }]);
    await expect(
      startHerald((issuer) =>
        heraldConfig(issuer, [
          walletConnector(world, { clientIdPrefix: 'x509_san_dns', requestSigning: { certificate: stranger.pem, privateKey: stranger.privateKeyPem } }),
        ]),
      ),
    ).rejects.toThrow(/x509_san_dns needs a dNSName SAN equal to Herald's host "127\.0\.0\.1"/);
    await expect(
      startHerald((issuer) => heraldConfig(issuer, [walletConnector(world, { ...signedRequests(world, 'x509_hash', 'get'), requestSigning: { certificate: world.verifierLeaf.pem, privateKey: stranger.privateKeyPem } })])),
    ).rejects.toThrow(/privateKey does not belong to the leaf/);
    await expect(startHerald((issuer) => ({ ...heraldConfig(issuer, [walletConnector(world, signedRequests(world, 'x509_hash', 'get'))]), mode: 'production' }))).rejects.toThrow(
      /wallets need Herald's issuer on https/,
    );
  });
});
