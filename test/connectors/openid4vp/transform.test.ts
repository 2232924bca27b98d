/**
 * Wallet claims through the transform engine: transforms/wallet-age.ts turns the disclosed birth
 * date and nationality into `age_over_18` and `nationality` in the access token; the birth date
 * itself, and claims the wallet never disclosed, are in no token.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startHerald, type TestHerald } from '../../support/herald.js';
import { clientPeer, type ClientPeer } from '../../peers/client.js';
import { AGE_API, CLIENT_SECRET, REDIRECT, beginSignIn, finishInBrowser, heraldConfig, redeemAt, signedRequests, startWorld, walletConnector, type WalletWorld } from './wallet-world.js';

describe('wallet claims through a transform', () => {
  let world: WalletWorld;
  let herald: TestHerald;
  let client: ClientPeer;

  beforeAll(async () => {
    world = await startWorld();
    herald = await startHerald((issuer) =>
      heraldConfig(issuer, [walletConnector(world, { id: 'wallet', flow: 'same_device', transforms: ['wallet-age'], ...signedRequests(world, 'x509_hash', 'post') })]),
    );
    client = await clientPeer(herald.issuer, 'app', CLIENT_SECRET, REDIRECT);
  });
  afterAll(async () => {
    await herald?.stop();
    await world?.stop();
  });

  async function signIn(birthdate: string) {
    const credential = world.wallet.store((await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk, claims: { birthdate } })).credential);
    const begun = await beginSignIn(herald, client, 'wallet');
    const answer = await world.wallet.answer(await world.wallet.resolve(begun.sameDevice!), { credential });
    expect(answer.status).toBe(200);
    const { callback } = await finishInBrowser(begun, answer.body.redirect_uri);
    return redeemAt(client, begun, callback!);
  }

  test('the access token carries age_over_18 and nationality derived from disclosed claims, not the birth date', async () => {
    const tokens = await signIn('1964-08-12');
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${herald.issuer}/jwks`)), { audience: AGE_API, typ: 'at+jwt' });
    expect(payload).toMatchObject({ age_over_18: true, nationality: 'DE', given_name: 'Erika' });
    expect(payload).not.toHaveProperty('birthdate');
    const everywhere = JSON.stringify([payload, tokens.claims(), decodeJwt(tokens.id_token!)]);
    for (const value of ['1964-08-12', 'erika@example.test', 'Heidestrasse', 'PAN-4711']) expect(everywhere).not.toContain(value);
  });

  test('a minor gets age_over_18: false', async () => {
    const year = new Date().getUTCFullYear() - 10;
    const tokens = await signIn(`${year}-01-01`);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ age_over_18: false, nationality: 'DE' });
  });
});
