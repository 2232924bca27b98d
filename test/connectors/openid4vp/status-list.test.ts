/**
 * Herald's Token Status List client against the status list server peer: the spec's bit
 * layout, every token check, and the transport limits (no redirects, deadline, byte cap,
 * decompression cap, SSRF guard); caching; and the connector switches in a full sign-in.
 */
import { inflateSync } from 'node:zlib';
import { IssuerTrust } from '../../../src/connectors/openid4vp/issuer-trust.js';
import { StatusListClient, readStatus, type StatusListSettings } from '../../../src/connectors/openid4vp/status-list.client.js';
import { PresentationRejected } from '../../../src/connectors/openid4vp/presentation-rejected.js';
import { isNonPublicAddress } from '../../../src/connectors/openid4vp/guarded-get.js';
import { startHerald, type TestHerald } from '../../support/herald.js';
import { clientPeer, type ClientPeer } from '../../peers/client.js';
import { STATUS } from '../../peers/sd-jwt-issuer.js';
import type { Misbehaviour } from '../../peers/status-list-server.js';
import { CLIENT_SECRET, REDIRECT, beginSignIn, heraldConfig, startWorld, walletConnector, type WalletWorld } from './wallet-world.js';

const SETTINGS: StatusListSettings = {
  timeoutMs: 5000,
  maxBytes: 256 * 1024,
  maxInflatedBytes: 16 * 1024 * 1024,
  minCacheSeconds: 5,
  maxCacheSeconds: 300,
  clockSkewSeconds: 60,
  allowHttp: true,
  allowPrivateNetwork: true,
};

async function checkOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PresentationRejected) return error.check;
    throw error;
  }
}

describe('token status list', () => {
  let world: WalletWorld;
  let trust: IssuerTrust;
  const client = (settings: Partial<StatusListSettings> = {}) => new StatusListClient(trust, { ...SETTINGS, ...settings });

  beforeAll(async () => {
    world = await startWorld();
    trust = new IssuerTrust(
      [
        { issuer: world.issuer.iss, jwks: world.issuer.jwks },
        { issuer: world.x5cIssuer.iss, x5cTrustAnchors: [world.issuerCa.pem] },
      ],
      { allowHttp: true },
    );
  });
  afterAll(() => world?.stop());

  test('the bit layout matches the spec examples (1 and 2 bits per entry, least significant bits first)', () => {
    const one = inflateSync(Buffer.from('78dadbb918000217015d', 'hex'));
    expect(Array.from({ length: 16 }, (_, i) => readStatus(one, 1, i))).toEqual([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
    const two = inflateSync(Buffer.from('78da3be9f2130003df0207', 'hex'));
    expect(Array.from({ length: 12 }, (_, i) => readStatus(two, 2, i))).toEqual([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]);
    expect(() => readStatus(two, 2, 12)).toThrow(/beyond the list/);
  });

  test('valid, revoked and suspended entries of a signed list (inline JWKS and x5c issuers)', async () => {
    const { statusIndex: valid } = await world.issuer.issue({});
    const { statusIndex: revoked } = await world.issuer.issue({});
    const { statusIndex: suspended } = await world.issuer.issue({});
    world.issuer.setStatus(revoked!, STATUS.INVALID);
    world.issuer.setStatus(suspended!, STATUS.SUSPENDED);
    const statuses = client();
    const uri = world.status.statusUri('pid');
    expect(await statuses.statusOf(uri, valid!, world.issuer.iss)).toBe(0);
    expect(await statuses.statusOf(uri, revoked!, world.issuer.iss)).toBe(1);
    expect(await statuses.statusOf(uri, suspended!, world.issuer.iss)).toBe(2);
    expect(await statuses.statusOf(world.status.statusUri('x5c'), 0, world.x5cIssuer.iss)).toBe(0);
    expect(await checkOf(statuses.statusOf(uri, 99_999, world.issuer.iss))).toBe('status_index_out_of_range');
  });

  test('a list is fetched once per ttl, and concurrent lookups share one fetch', async () => {
    const statuses = client();
    const uri = world.status.statusUri('x5c');
    const path = new URL(uri).pathname;
    const before = world.status.hits.get(path) ?? 0;
    await Promise.all([0, 1, 2, 3].map((i) => statuses.statusOf(uri, i, world.x5cIssuer.iss)));
    await statuses.statusOf(uri, 5, world.x5cIssuer.iss);
    expect(world.status.hits.get(path)! - before).toBe(1);
    expect(statuses.fetches).toBe(1);
  });

  test('a list signed with the keys of one issuer does not answer for another issuer', async () => {
    // x5c issuer's list, looked up for a credential of the JWKS issuer: its keys do not verify it.
    expect(await checkOf(client().statusOf(world.status.statusUri('x5c'), 0, world.issuer.iss))).toBe('status_token_invalid');
  });

  test.each<[Misbehaviour, string]>([
    ['redirect', 'status_unavailable'],
    ['huge', 'status_unavailable'],
    ['html', 'status_unavailable'],
    ['notfound', 'status_unavailable'],
    ['wrongsub', 'status_token_invalid'],
    ['badsig', 'status_token_invalid'],
    ['wrongtyp', 'status_token_invalid'],
    ['expired', 'status_token_invalid'],
  ])('a status server that answers "%s" fails %s', async (variant, check) => {
    expect(await checkOf(client().statusOf(world.status.statusUri('pid', variant), 0, world.issuer.iss))).toBe(check);
  });

  test('a slow status server runs into the deadline', async () => {
    // The slow endpoint does send a valid token after 5 s: without the deadline this would be 'ok'.
    expect(await checkOf(client({ timeoutMs: 300 }).statusOf(world.status.statusUri('pid', 'slow'), 0, world.issuer.iss))).toBe('status_unavailable');
  });

  test('a decompression bomb is refused by the inflate cap, not by running out of memory', async () => {
    expect(await checkOf(client().statusOf(world.status.statusUri('pid', 'bomb'), 0, world.issuer.iss))).toBe('status_token_invalid');
    // The same token is readable with a cap large enough: the refusal was the cap.
    expect(await checkOf(client({ maxInflatedBytes: 128 * 1024 * 1024 }).statusOf(world.status.statusUri('pid', 'bomb'), 0, world.issuer.iss))).toBe('ok');
  });

  test('http and private addresses are refused unless allowed (SSRF guard)', async () => {
    const uri = world.status.statusUri('pid');
    expect(await checkOf(client({ allowHttp: false }).statusOf(uri, 0, world.issuer.iss))).toBe('status_unavailable');
    expect(await checkOf(client({ allowPrivateNetwork: false }).statusOf(uri, 0, world.issuer.iss))).toBe('status_unavailable');
    const viaName = uri.replace('127.0.0.1', 'localhost');
    expect(await checkOf(client({ allowPrivateNetwork: false }).statusOf(viaName, 0, world.issuer.iss))).toBe('status_unavailable');
    // Allowed, the same name reaches the server (whose token names the 127.0.0.1 URI, hence sub fails):
    // so the refusal above was the guard, not name resolution.
    expect(await checkOf(client().statusOf(viaName, 0, world.issuer.iss))).toBe('status_token_invalid');
  });

  test('non-public addresses, IPv4 and IPv6 (mapped too), are recognised', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', 'fd00::1', 'fe80::1', 'not-an-ip']) {
      expect([address, isNonPublicAddress(address)]).toEqual([address, true]);
    }
    for (const address of ['8.8.8.8', '93.184.216.34', '2001:4860:4860::8888', '::ffff:8.8.8.8', '::ffff:808:808']) expect([address, isNonPublicAddress(address)]).toEqual([address, false]);
  });

  test('IPv6 forms that carry an IPv4 address are judged by it; IPv4-compatible and local NAT64 are refused', () => {
    const nonPublic = [
      '0:0:0:0:0:ffff:7f00:1', // IPv4-mapped, written out
      '::ffff:0:7f00:1', // IPv4-translated
      '64:ff9b::7f00:1', // NAT64 (well-known prefix) to 127.0.0.1
      '64:ff9b::127.0.0.1',
      '64:ff9b::a9fe:a9fe', // → 169.254.169.254
      '64:ff9b:0:0:0:0:a00:1', // → 10.0.0.1
      '::7f00:1', // IPv4-compatible (deprecated), any
      '::127.0.0.1',
      '::808:808',
      '64:ff9b:1::808:808', // local-use NAT64
      '2002:7f00:1::1', // 6to4 of 127.0.0.1
      'fe80::1%eth0',
    ];
    for (const address of nonPublic) expect([address, isNonPublicAddress(address)]).toEqual([address, true]);
    for (const address of ['64:ff9b::808:808', '64:ff9b::8.8.8.8', '2002:808:808::1']) expect([address, isNonPublicAddress(address)]).toEqual([address, false]);
  });

  describe('in a sign-in', () => {
    let herald: TestHerald;
    let app: ClientPeer;
    beforeAll(async () => {
      herald = await startHerald((issuer) =>
        heraldConfig(issuer, [
          walletConnector(world, { id: 'wallet', flow: 'same_device' }),
          walletConnector(world, { id: 'wallet-off', flow: 'same_device', statusList: { enabled: false } }),
          walletConnector(world, { id: 'wallet-guarded', flow: 'same_device', statusList: { allowHttp: true } }),
          walletConnector(world, { id: 'wallet-required', flow: 'same_device', statusList: { allowHttp: true, allowPrivateNetwork: true, required: true } }),
        ]),
      );
      app = await clientPeer(herald.issuer, 'app', CLIENT_SECRET, REDIRECT);
    });
    afterAll(() => herald?.stop());

    async function answer(connector: string, options: Parameters<typeof world.issuer.issue>[0] = {}, setStatus?: number) {
      const { credential, statusIndex } = await world.issuer.issue({ holderJwk: world.wallet.holder.publicJwk, ...options });
      if (setStatus !== undefined) world.issuer.setStatus(statusIndex!, setStatus);
      const stored = world.wallet.store(credential);
      const begun = await beginSignIn(herald, app, connector);
      return world.wallet.answer(await world.wallet.resolve(begun.sameDevice!), { credential: stored });
    }

    test('status checking can be switched off per connector', async () => {
      expect((await answer('wallet-off', { statusUri: world.status.statusUri('pid', 'badsig') })).status).toBe(200);
    });

    test('the default SSRF guard refuses a status list on a loopback address', async () => {
      expect((await answer('wallet-guarded')).body).toMatchObject({ error: 'invalid_request', error_description: 'status_unavailable' });
    });

    test('a credential without status is refused where status is required', async () => {
      expect((await answer('wallet-required', { withoutStatus: true })).body).toMatchObject({ error_description: 'status_missing' });
      expect((await answer('wallet', { withoutStatus: true })).status).toBe(200);
    });

    test('a status list that cannot be fetched fails the sign-in', async () => {
      expect((await answer('wallet', { statusUri: world.status.statusUri('pid', 'redirect') })).body).toMatchObject({ error_description: 'status_unavailable' });
    });
  });
});
