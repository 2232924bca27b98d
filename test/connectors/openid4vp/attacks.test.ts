/**
 * Attacks on the wallet sign-in, each rejected by a named check: the wallet gets an OpenID4VP
 * error naming it, the browser a failure page, the client `access_denied`, and the audit trail
 * a `wallet.presentation_rejected` event whose reason is the check.
 */
import { Like } from 'typeorm';
import { FlowStateEntity } from '../../../src/connectors/flow-state.entity.js';
import { startHerald, type TestHerald } from '../../support/herald.js';
import { clientPeer, type ClientPeer } from '../../peers/client.js';
import { findLink } from '../../support/browser.js';
import { SdJwtIssuer, PID_VCT, STATUS } from '../../peers/sd-jwt-issuer.js';
import type { PresentOptions, StoredCredential, StoredDisclosure, WalletPost, WalletRequest } from '../../peers/wallet.js';
import {
  CLIENT_SECRET,
  REDIRECT,
  beginSignIn,
  finishInBrowser,
  heraldConfig,
  pollUntilDone,
  signedRequests,
  startWorld,
  walletConnector,
  type BegunSignIn,
  type WalletWorld,
} from './wallet-world.js';

type Selection = { credential: StoredCredential; disclosures: StoredDisclosure[] };

interface AttackOptions {
  connector?: string;
  credential?: StoredCredential;
  present?: PresentOptions | ((request: WalletRequest) => PresentOptions);
  select?: (query: Record<string, any>, credential: StoredCredential) => Selection;
  vpToken?: (presentation: string, request: WalletRequest) => unknown;
}

describe('wallet sign-in attacks', () => {
  let world: WalletWorld;
  let herald: TestHerald;
  let client: ClientPeer;
  let good: StoredCredential;
  let revoked: StoredCredential;
  let suspended: StoredCredential;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    world = await startWorld();
    herald = await startHerald((issuer) =>
      heraldConfig(issuer, [
        walletConnector(world, { id: 'wallet', flow: 'same_device' }),
        walletConnector(world, { id: 'wallet-hash', flow: 'same_device', ...signedRequests(world, 'x509_hash', 'get') }),
        walletConnector(world, { id: 'wallet-cross', flow: 'cross_device', ...signedRequests(world, 'x509_hash', 'get') }),
        walletConnector(world, {
          id: 'wallet-bearer',
          flow: 'same_device',
          keyBindingRequired: false,
          subjectClaim: ['given_name'],
          dcql: { credentials: [{ id: 'pid', format: 'dc+sd-jwt', require_cryptographic_holder_binding: false, meta: { vct_values: [PID_VCT] }, claims: [{ path: ['given_name'] }] }] },
        }),
      ]),
    );
    client = await clientPeer(herald.issuer, 'app', CLIENT_SECRET, REDIRECT);
    good = await mint();
    // Revoke and suspend before any sign-in: the status list is cached for its ttl afterwards.
    revoked = await mint();
    world.issuer.setStatus(revoked.payload.status.status_list.idx, STATUS.INVALID);
    suspended = await mint();
    world.issuer.setStatus(suspended.payload.status.status_list.idx, STATUS.SUSPENDED);
  });
  afterAll(async () => {
    await herald?.stop();
    await world?.stop();
  });

  async function mint(peer: SdJwtIssuer = world.issuer, options: Parameters<SdJwtIssuer['issue']>[0] = {}): Promise<StoredCredential> {
    return world.wallet.store((await peer.issue({ holderJwk: world.wallet.holder.publicJwk, ...options })).credential);
  }

  async function present(begun: BegunSignIn, options: AttackOptions): Promise<{ request: WalletRequest; post: WalletPost; presentation: string }> {
    const request = await world.wallet.resolve(begun.sameDevice ?? (await begun.qrCode())!);
    const query = request.dcql_query.credentials[0]!;
    const credential = options.credential ?? good;
    const selection = options.select ? options.select(query, credential) : world.wallet.select(query, credential);
    const knobs = typeof options.present === 'function' ? options.present(request) : (options.present ?? {});
    const presentation = await world.wallet.present(selection, request, knobs);
    const vpToken = options.vpToken ? options.vpToken(presentation, request) : { [query.id]: [presentation] };
    return { request, post: await world.wallet.respond(request, vpToken), presentation };
  }

  /** Runs the attack through the whole flow; returns the check the wallet was told and what the app got. */
  async function attack(options: AttackOptions = {}): Promise<{ check: string; clientError?: string; post: WalletPost; audited: string[] }> {
    const begun = await beginSignIn(herald, client, options.connector ?? 'wallet');
    const { post } = await present(begun, options);
    const check = post.status === 200 ? 'accepted' : String(post.body.error_description);
    let clientError: string | undefined;
    if (post.body.redirect_uri) {
      const failed = await finishInBrowser(begun, post.body.redirect_uri);
      if (failed.callback) {
        clientError = failed.callback.searchParams.get('error') ?? 'none';
      } else {
        expect(failed.page.status).toBe(403);
        expect(failed.page.body).toContain('Sign-in failed');
        const back = await finishInBrowser(begun, new URL(findLink(failed.page.body, /\/auth/), herald.issuer).href);
        clientError = back.callback?.searchParams.get('error') ?? undefined;
      }
    }
    const audited = (await herald.audit.find({ type: 'wallet.presentation_rejected' })).map((e) => String(e.reason));
    return { check, clientError, post, audited };
  }

  async function expectRejected(options: AttackOptions, check: string, oauthError = 'invalid_request'): Promise<void> {
    const before = (await herald.audit.find({ type: 'wallet.presentation_rejected' })).length;
    const result = await attack(options);
    expect(result.check).toBe(check);
    expect(result.post).toMatchObject({ status: 400, body: { error: oauthError } });
    expect(result.clientError).toBe('access_denied');
    expect(result.audited.slice(before)).toEqual([check]);
  }

  const flip = (jws: string) => `${jws.slice(0, -3)}${jws.endsWith('AAA') ? 'BBB' : 'AAA'}`;

  test('the honest presentation is accepted (the baseline every attack departs from)', async () => {
    const result = await attack();
    expect(result.check).toBe('accepted');
    expect(result.clientError).toBe('none');
  });

  describe('issuer and credential', () => {
    test('bad issuer signature', () => expectRejected({ present: { tamperJwt: flip } }, 'issuer_signature'));
    test('issuer payload altered after signing (exp extended)', () =>
      expectRejected(
        {
          present: {
            tamperJwt: (jwt) => {
              const [h, p, s] = jwt.split('.');
              const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
              payload.exp += 86400;
              return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
            },
          },
        },
        'issuer_signature',
      ));
    test('untrusted issuer', async () => expectRejected({ credential: await mint(world.untrusted) }, 'issuer_untrusted'));
    test('a trusted iss and kid, but signed by another key', async () => expectRejected({ credential: await mint(world.impostor) }, 'issuer_signature'));
    test('an x5c chain to a CA nobody trusts', async () => expectRejected({ credential: await mint(world.rogueX5c) }, 'issuer_untrusted'));
    test('expired credential', async () => expectRejected({ credential: await mint(world.issuer, { exp: now() - 3600 }) }, 'credential_expired'));
    test('credential not yet valid', async () => expectRejected({ credential: await mint(world.issuer, { nbf: now() + 3600 }) }, 'credential_not_yet_valid'));
    test('credential of another type (the wallet ignored the query)', async () =>
      expectRejected({ credential: await mint(world.issuer, { vct: 'urn:example:diploma:1' }) }, 'dcql_unsatisfied'));
    test('a requested claim withheld', () =>
      expectRejected(
        { select: (query, credential) => { const s = world.wallet.select(query, credential); return { ...s, disclosures: s.disclosures.filter((d) => d.value[1] !== 'birthdate') }; } },
        'dcql_unsatisfied',
      ));
    test('revoked credential', () => expectRejected({ credential: revoked }, 'status_revoked', 'access_denied'));
    test('suspended credential', () => expectRejected({ credential: suspended }, 'status_suspended', 'access_denied'));
  });

  describe('key binding', () => {
    test('wrong nonce', () => expectRejected({ present: { nonce: 'not-this-transactions-nonce' } }, 'kb_nonce'));
    test('aud of another verifier', () => expectRejected({ present: { aud: 'x509_san_dns:evil.example' } }, 'kb_aud'));
    test('aud = the response_uri without the redirect_uri: prefix', () => expectRejected({ present: (request) => ({ aud: request.response_uri }) }, 'kb_aud'));
    test('aud = the bare host', () => expectRejected({ present: () => ({ aud: new URL(herald.issuer).host }) }, 'kb_aud'));
    test('aud = [client_id] (an array)', () => expectRejected({ present: (request) => ({ aud: [request.client_id] }) }, 'kb_aud'));
    test('x509_hash: aud = the hash without its prefix', () =>
      expectRejected({ connector: 'wallet-hash', present: (request) => ({ aud: request.client_id.replace(/^x509_hash:/, '') }) }, 'kb_aud'));
    test('bad signature', () => expectRejected({ present: { corruptSignature: true } }, 'kb_signature'));
    test('signed by another key than cnf', () => expectRejected({ present: { signWith: 'other' } }, 'kb_signature'));
    test('iat a year ago', () => expectRejected({ present: { iat: now() - 365 * 86400 } }, 'kb_iat'));
    test('iat a year ahead', () => expectRejected({ present: { iat: now() + 365 * 86400 } }, 'kb_iat'));
    test('missing when required', () => expectRejected({ present: { kb: false } }, 'kb_missing'));
    test('typ JWT instead of kb+jwt', () => expectRejected({ present: { typ: 'JWT' } }, 'kb_typ'));
    test('sd_hash of something else', () => expectRejected({ present: { sdHash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }, 'sd_hash'));
    test('a credential without cnf presented with a KB-JWT', async () =>
      expectRejected({ credential: world.wallet.store((await world.issuer.issue({})).credential) }, 'cnf_missing'));
  });

  describe('disclosures', () => {
    test('a disclosure added after the KB-JWT was made (sd_hash mismatch)', () => {
      const email = good.disclosures.find((d) => d.value[1] === 'email')!.encoded;
      return expectRejected({ present: { extraAfterKb: [email] } }, 'sd_hash');
    });
    test('a disclosure that belongs to another credential (unreferenced), bound by the KB-JWT', async () => {
      const other = await mint();
      const foreign = other.disclosures.find((d) => d.value[1] === 'email')!.encoded;
      return expectRejected({ present: { extra: [foreign] } }, 'disclosure_unreferenced');
    });
    test('a duplicated disclosure, bound by the KB-JWT', () => expectRejected({ present: { duplicate: true } }, 'disclosure_duplicate'));
    test('bearer presentation without the trailing ~', () =>
      expectRejected({ connector: 'wallet-bearer', present: { kb: false, omitTrailingTilde: true } }, 'format'));

    describe('from a buggy but trusted issuer', () => {
      const base = () => ({ iss: world.issuer.iss, iat: now(), exp: now() + 3600, vct: PID_VCT, cnf: { jwk: world.wallet.holder.publicJwk } });
      const store = (jwt: string) => world.wallet.store(jwt);
      test('_sd_alg md5', () => {
        const d = SdJwtIssuer.disclosure(['s1', 'given_name', 'Erika'], 'md5');
        return expectRejected({ credential: store(world.issuer.craft({ ...base(), _sd_alg: 'md5', _sd: [d.digest] }, [d])) }, 'sd_alg');
      });
      test('a disclosed claim that also exists in plaintext', () => {
        const d = SdJwtIssuer.disclosure(['s1', 'given_name', 'Erika']);
        return expectRejected({ credential: store(world.issuer.craft({ ...base(), given_name: 'Plain', _sd: [d.digest] }, [d])) }, 'claim_collision');
      });
      test('the same digest twice', () => {
        const d = SdJwtIssuer.disclosure(['s1', 'given_name', 'Erika']);
        return expectRejected({ credential: store(world.issuer.craft({ ...base(), _sd: [d.digest, d.digest] }, [d])) }, 'digest_duplicate');
      });
      test('a selectively disclosed nbf', () => {
        const given = SdJwtIssuer.disclosure(['s1', 'given_name', 'Erika']);
        const nbf = SdJwtIssuer.disclosure(['s2', 'nbf', now() - 10]);
        const credential = store(world.issuer.craft({ ...base(), _sd: [given.digest, nbf.digest] }, [given, nbf]));
        return expectRejected({ credential, select: () => ({ credential, disclosures: credential.disclosures }) }, 'reserved_claim_disclosed');
      });
      test('issuer JWT typ "JWT"', () => {
        const d = SdJwtIssuer.disclosure(['s1', 'given_name', 'Erika']);
        return expectRejected({ credential: store(world.issuer.craft({ ...base(), _sd: [d.digest] }, [d], { typ: 'JWT' })) }, 'issuer_jwt_header');
      });
    });
  });

  describe('response', () => {
    test('an answer for a credential query that was not asked', () => expectRejected({ vpToken: (p) => ({ other: [p] }) }, 'dcql_unsatisfied'));
    test('two presentations where the query allows one', () => expectRejected({ vpToken: (p) => ({ pid: [p, p] }) }, 'dcql_unsatisfied'));
    test('a vp_token that is not a DCQL object', () => expectRejected({ vpToken: (p) => p }, 'response_malformed'));

    test('a wrong state is refused without using up the transaction', async () => {
      const begun = await beginSignIn(herald, client, 'wallet');
      const request = await world.wallet.resolve(begun.sameDevice!);
      const presentation = await world.wallet.present(world.wallet.select(request.dcql_query.credentials[0]!, good), request);
      const wrong = await world.wallet.respond(request, { pid: [presentation] }, { state: 'not-the-state' });
      expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'state' } });
      const right = await world.wallet.respond(request, { pid: [presentation] });
      expect(right.status).toBe(200);
    });
  });

  describe('replay', () => {
    test('the same response posted twice to one transaction', async () => {
      const begun = await beginSignIn(herald, client, 'wallet');
      const { request, post, presentation } = await present(begun, {});
      expect(post.status).toBe(200);
      const again = await world.wallet.respond(request, { pid: [presentation] });
      expect(again).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'replay' } });
      // The first answer is still the one the browser collects.
      const { callback } = await finishInBrowser(begun, post.body.redirect_uri);
      expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    });

    test('two answers racing into one transaction: exactly one is taken', async () => {
      const begun = await beginSignIn(herald, client, 'wallet');
      const request = await world.wallet.resolve(begun.sameDevice!);
      const presentation = await world.wallet.present(world.wallet.select(request.dcql_query.credentials[0]!, good), request);
      const posts = await Promise.all([1, 2, 3].map(() => world.wallet.respond(request, { pid: [presentation] })));
      expect(posts.map((p) => p.status).sort()).toEqual([200, 400, 400]);
      expect(posts.filter((p) => p.status === 400).every((p) => p.body.error_description === 'replay')).toBe(true);
    });

    test('a captured vp_token replayed into another transaction (another client identifier)', async () => {
      const first = await present(await beginSignIn(herald, client, 'wallet'), {});
      expect(first.post.status).toBe(200);
      const victim = await beginSignIn(herald, client, 'wallet');
      const request = await world.wallet.resolve(victim.sameDevice!);
      const replayed = await world.wallet.respond(request, { pid: [first.presentation] });
      // redirect_uri: client identifiers are per transaction, so the audience is the first thing that differs.
      expect(replayed).toMatchObject({ status: 400, body: { error_description: 'kb_aud' } });
    });

    test('a captured vp_token replayed into another transaction of the same client identifier', async () => {
      const first = await present(await beginSignIn(herald, client, 'wallet-hash'), {});
      expect(first.post.status).toBe(200);
      const victim = await beginSignIn(herald, client, 'wallet-hash');
      const request = await world.wallet.resolve(victim.sameDevice!);
      expect(request.client_id).toBe(first.request.client_id);
      const replayed = await world.wallet.respond(request, { pid: [first.presentation] });
      expect(replayed).toMatchObject({ status: 400, body: { error_description: 'kb_nonce' } });
    });

    test('a bearer presentation (no key binding configured) is accepted once only', async () => {
      const first = await present(await beginSignIn(herald, client, 'wallet-bearer'), { present: { kb: false } });
      expect(first.post.status).toBe(200);
      const next = await beginSignIn(herald, client, 'wallet-bearer');
      const request = await world.wallet.resolve(next.sameDevice!);
      const replayed = await world.wallet.respond(request, { pid: [first.presentation] });
      expect(replayed).toMatchObject({ status: 400, body: { error_description: 'replay' } });
    });

    /** A captured bearer presentation, posted into a new transaction as `rewrite` changes it. */
    async function replayBearer(disclosed: string[], rewrite: (presentation: string) => string): Promise<WalletPost> {
      const select = (_query: Record<string, any>, credential: StoredCredential): Selection => ({
        credential,
        disclosures: credential.disclosures.filter((d) => disclosed.includes(d.value[1] as string)),
      });
      const credential = await mint();
      const first = await present(await beginSignIn(herald, client, 'wallet-bearer'), { credential, select, present: { kb: false } });
      expect(first.post.status).toBe(200);
      const request = await world.wallet.resolve((await beginSignIn(herald, client, 'wallet-bearer')).sameDevice!);
      const copy = rewrite(first.presentation);
      expect(copy).not.toBe(first.presentation);
      return world.wallet.respond(request, { pid: [copy] });
    }

    test('a bearer presentation with the issuer signature re-encoded as (r, n − s), still valid, is refused as replay', async () => {
      const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
      const malleate = (presentation: string) => {
        const [jwt, ...rest] = presentation.split('~');
        const [h, p, signature] = jwt!.split('.') as [string, string, string];
        const bytes = Buffer.from(signature, 'base64url');
        const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
        const flipped = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
        return [`${h}.${p}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url')}`, ...rest].join('~');
      };
      expect(await replayBearer(['given_name'], malleate)).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'replay' } });
    });

    test('a bearer presentation with its disclosures reordered, or some left out, is refused as replay', async () => {
      const reorder = (presentation: string) => {
        const [jwt, ...disclosures] = presentation.split('~').slice(0, -1);
        return `${[jwt, ...disclosures.reverse()].join('~')}~`;
      };
      expect(await replayBearer(['given_name', 'family_name', 'birthdate'], reorder)).toMatchObject({ status: 400, body: { error_description: 'replay' } });
      const givenNameOnly = (presentation: string) => {
        const [jwt, ...disclosures] = presentation.split('~').slice(0, -1);
        const kept = disclosures.filter((d) => JSON.parse(Buffer.from(d, 'base64url').toString())[1] === 'given_name');
        return `${[jwt, ...kept].join('~')}~`;
      };
      expect(await replayBearer(['given_name', 'family_name'], givenNameOnly)).toMatchObject({ status: 400, body: { error_description: 'replay' } });
    });

    test('a key-bound credential is presented again in a later transaction', async () => {
      const credential = await mint();
      for (let i = 0; i < 2; i++) {
        const { post } = await present(await beginSignIn(herald, client, 'wallet-hash'), { credential });
        expect(post.status).toBe(200);
      }
    });
  });

  describe('collecting the result', () => {
    test('polling without the transaction id, or with another, reveals nothing; the callback needs the response code', async () => {
      const begun = await beginSignIn(herald, client, 'wallet-cross');
      const request = await world.wallet.resolve((await begun.qrCode())!);
      const answer = await world.wallet.answer(request);
      expect(answer).toMatchObject({ status: 200, body: {} });
      const pollPath = new URL(begun.pollUrl!);
      for (const tx of [null, '', 'x'.repeat(43), pollPath.searchParams.get('tx')!.slice(0, -1)]) {
        const url = new URL(pollPath);
        if (tx === null) url.searchParams.delete('tx');
        else url.searchParams.set('tx', tx);
        const response = await begun.browser.fetch(url.href, { headers: { accept: 'application/json' } });
        expect(response.status).toBe(404);
        expect(JSON.stringify(await response.json())).not.toMatch(/response_code/);
      }
      // Without a response code, or with a made-up one, the callback ends in a failure page.
      for (const query of ['', '?response_code=', `?response_code=${'A'.repeat(43)}`]) {
        const page = await begun.browser.go(`${herald.issuer}/connectors/wallet-cross/callback${query}`);
        expect(page.status).toBe(400);
        expect(page.body).toContain('Sign-in failed');
      }
      // The page that holds the transaction id gets it, and finishes.
      const done = await pollUntilDone(begun);
      const { callback } = await finishInBrowser(begun, done.next!);
      expect(callback?.searchParams.get('code')).toEqual(expect.any(String));
    });

    test('a cross-device failure reaches the browser through the poll', async () => {
      const begun = await beginSignIn(herald, client, 'wallet-cross');
      const request = await world.wallet.resolve((await begun.qrCode())!);
      const answer = await world.wallet.answer(request, { nonce: 'wrong' });
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'kb_nonce' } });
      expect(answer.body.redirect_uri).toBeUndefined();
      const done = await pollUntilDone(begun);
      const failed = await finishInBrowser(begun, done.next!);
      expect(failed.page.status).toBe(403);
      const back = await finishInBrowser(begun, new URL(findLink(failed.page.body, /\/auth/), herald.issuer).href);
      expect(back.callback?.searchParams.get('error')).toBe('access_denied');
    });

    test('an expired transaction accepts no answer and serves no request', async () => {
      const begun = await beginSignIn(herald, client, 'wallet-hash');
      const request = await world.wallet.resolve(begun.sameDevice!);
      // Move the transaction's clock: its records now say they expired a second ago.
      const flows = herald.dataSource.getRepository(FlowStateEntity);
      const rows = await flows.find({ where: { key: Like('connector:wallet-hash:tx:%') } });
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) await flows.save({ ...row, value: { ...row.value, expiresAt: Date.now() - 1000 } });
      const answer = await world.wallet.answer(request);
      expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'tx_expired_or_unknown' } });
      // No sign-in will report this rejection, so the connector audits it at once.
      const rejected = await herald.audit.find({ type: 'wallet.presentation_rejected' });
      expect(rejected.at(-1)).toMatchObject({ connectorId: 'wallet-hash', reason: 'tx_expired_or_unknown', outcome: 'failure' });
      const link = new URL(begun.sameDevice!).searchParams.get('request_uri')!;
      const refetch = await fetch(link);
      expect(refetch.status).toBe(400);
      expect(await refetch.json()).toMatchObject({ error: 'invalid_request_uri' });
    });
  });
});
