/**
 * A scripted holder wallet, deliberately built from other parts than Herald's verifier so the two
 * do not share misreadings of the specs: no @openid4vc, no @sd-jwt, no dcql. The request is read
 * with URL + fetch and (when signed) verified with jose against the verifier CA the wallet trusts;
 * the SD-JWT is split and its disclosures picked by hand; sd_hash is computed with node:crypto and
 * the KB-JWT signed with jose. Every step has a knob to produce a hostile presentation.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { exportJWK, generateKeyPair, importX509, jwtVerify, SignJWT, decodeProtectedHeader, type CryptoKey, type JWK } from 'jose';

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const sha256 = (value: string) => b64(createHash('sha256').update(value).digest());
const fromB64Json = (value: string) => JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));

export class WalletError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
  }
}

export interface StoredDisclosure {
  encoded: string;
  digest: string;
  value: unknown[];
}

export interface StoredCredential {
  raw: string;
  jwt: string;
  payload: Record<string, any>;
  vct: string;
  disclosures: StoredDisclosure[];
}

/** The authorization request as the wallet understood it. */
export interface WalletRequest extends Record<string, any> {
  client_id: string;
  response_uri: string;
  nonce: string;
  state: string;
  dcql_query: { credentials: Array<Record<string, any>> };
  /** The x5c header of a signed request object. */
  x5c?: string[];
  /** How it was obtained. */
  transport: 'by_value' | 'get' | 'post';
}

export interface PresentOptions {
  kb?: false;
  nonce?: string;
  aud?: unknown;
  iat?: number;
  typ?: string;
  signWith?: 'other';
  corruptSignature?: boolean;
  sdHash?: string;
  /** Disclosures appended before the KB-JWT is made (bound by sd_hash). */
  extra?: string[];
  /** Disclosures inserted after the KB-JWT was made (not bound). */
  extraAfterKb?: string[];
  duplicate?: boolean;
  tamperJwt?: (jwt: string) => string;
  omitTrailingTilde?: boolean;
}

export interface WalletPost {
  status: number;
  body: Record<string, any>;
}

export class TestWallet {
  private readonly trustedVerifierCas: X509Certificate[];
  holder!: { privateKey: CryptoKey; publicJwk: JWK };
  private otherKey!: CryptoKey;
  readonly credentials: StoredCredential[] = [];

  constructor(trustedVerifierCaPems: string[] = []) {
    this.trustedVerifierCas = trustedVerifierCaPems.map((pem) => new X509Certificate(pem));
  }

  async init(): Promise<this> {
    const holder = await generateKeyPair('ES256', { extractable: true });
    this.holder = { privateKey: holder.privateKey, publicJwk: await exportJWK(holder.publicKey) };
    this.otherKey = (await generateKeyPair('ES256')).privateKey;
    return this;
  }

  store(raw: string): StoredCredential {
    const [jwt, ...rest] = raw.split('~');
    const disclosures = rest.filter(Boolean).map((encoded) => ({ encoded, digest: sha256(encoded), value: fromB64Json(encoded) as unknown[] }));
    const payload = fromB64Json(jwt!.split('.')[1]!);
    const credential = { raw, jwt: jwt!, payload, vct: payload.vct, disclosures };
    this.credentials.push(credential);
    return credential;
  }

  // ---------------------------------------------------------------- request

  /**
   * Reads an openid4vp:// link: by value, or by fetching request_uri (GET, or POST with
   * wallet_metadata and a wallet_nonce when the link says request_uri_method=post or `method`
   * forces it) and verifying the signed request object.
   */
  async resolve(link: string, options: { method?: 'get' | 'post'; walletNonce?: string | null; walletMetadata?: Record<string, unknown>; rewriteOrigin?: string } = {}): Promise<WalletRequest> {
    const url = new URL(link);
    const outer = Object.fromEntries(url.searchParams);
    if (!outer.request_uri) {
      const request: Record<string, any> = { ...outer };
      for (const name of ['dcql_query', 'client_metadata']) if (typeof request[name] === 'string') request[name] = JSON.parse(request[name]);
      this.checkClientId(request, undefined);
      return { ...(request as WalletRequest), transport: 'by_value' };
    }
    const method = options.method ?? (outer.request_uri_method === 'post' ? 'post' : 'get');
    const walletNonce = method === 'post' ? (options.walletNonce === null ? undefined : (options.walletNonce ?? b64(randomBytes(16)))) : undefined;
    const target = options.rewriteOrigin ? rewrite(outer.request_uri, options.rewriteOrigin) : outer.request_uri;
    const form = new URLSearchParams();
    if (method === 'post') {
      form.set(
        'wallet_metadata',
        JSON.stringify(options.walletMetadata ?? { vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] } }, request_object_signing_alg_values_supported: ['ES256'] }),
      );
      if (walletNonce) form.set('wallet_nonce', walletNonce);
    }
    const response = await fetch(target, {
      method: method.toUpperCase(),
      redirect: 'manual',
      headers: { accept: 'application/oauth-authz-req+jwt', ...(method === 'post' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: method === 'post' ? form.toString() : undefined,
    });
    const text = await response.text();
    if (response.status !== 200) throw new WalletError('request_uri', `HTTP ${response.status}: ${text}`);
    if (!(response.headers.get('content-type') ?? '').startsWith('application/oauth-authz-req+jwt')) throw new WalletError('request_uri', 'wrong content type');
    const jwt = text.trim();
    const header = decodeProtectedHeader(jwt);
    if (header.typ !== 'oauth-authz-req+jwt') throw new WalletError('request_object', `typ ${header.typ}`);
    let request: Record<string, any>;
    if (header.alg === 'none') {
      request = fromB64Json(jwt.split('.')[1]!);
      if (!String(request.client_id).startsWith('redirect_uri:')) throw new WalletError('request_object', 'only redirect_uri requests may be unsigned');
    } else {
      if (!Array.isArray(header.x5c) || header.x5c.length === 0) throw new WalletError('request_object', 'x5c required');
      const leaf = await importX509(`-----BEGIN CERTIFICATE-----\n${header.x5c[0]}\n-----END CERTIFICATE-----`, String(header.alg));
      const audience = typeof options.walletMetadata?.issuer === 'string' ? options.walletMetadata.issuer : 'https://self-issued.me/v2';
      ({ payload: request } = await jwtVerify(jwt, leaf, { typ: 'oauth-authz-req+jwt', audience }));
      this.checkChain(header.x5c);
      request.x5c = header.x5c;
    }
    if (request.client_id !== outer.client_id) throw new WalletError('request_object', 'client_id differs from the outer client_id');
    if (walletNonce && request.wallet_nonce !== walletNonce) throw new WalletError('request_object', 'wallet_nonce not echoed');
    this.checkClientId(request, request.x5c);
    return { ...(request as WalletRequest), transport: method };
  }

  private checkChain(x5c: string[]): void {
    const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
    for (let i = 0; i < chain.length - 1; i++) if (!chain[i]!.verify(chain[i + 1]!.publicKey)) throw new WalletError('request_object', 'x5c chain broken');
    const last = chain[chain.length - 1]!;
    if (!this.trustedVerifierCas.some((ca) => last.raw.equals(ca.raw) || (last.checkIssued(ca) && last.verify(ca.publicKey)))) {
      throw new WalletError('request_object', 'verifier certificate not trusted');
    }
  }

  /** OpenID4VP §5.9.3 rules, as a wallet applies them. */
  private checkClientId(request: Record<string, any>, x5c: string[] | undefined): void {
    const clientId = String(request.client_id);
    const colon = clientId.indexOf(':');
    const prefix = clientId.slice(0, colon);
    const identifier = clientId.slice(colon + 1);
    if (request.response_type !== 'vp_token' || request.response_mode !== 'direct_post' || !request.response_uri) throw new WalletError('request', 'expected vp_token over direct_post');
    if (typeof request.nonce !== 'string' || request.nonce.length < 22) throw new WalletError('request', 'nonce missing or short');
    if (prefix === 'redirect_uri') {
      if (x5c) throw new WalletError('request', 'redirect_uri requests must not be signed');
      if (identifier !== request.response_uri) throw new WalletError('request', 'redirect_uri identifier differs from response_uri');
    } else if (prefix === 'x509_san_dns') {
      const leaf = new X509Certificate(Buffer.from(x5c![0]!, 'base64'));
      if (!(leaf.subjectAltName ?? '').split(', ').includes(`DNS:${identifier}`)) throw new WalletError('request', 'no dNSName SAN for the client identifier');
      if (new URL(request.response_uri).hostname !== identifier) throw new WalletError('request', 'response_uri host differs from the client identifier');
    } else if (prefix === 'x509_hash') {
      if (sha256Der(x5c![0]!) !== identifier) throw new WalletError('request', 'x509_hash does not match the leaf certificate');
    } else {
      throw new WalletError('request', `unsupported client identifier prefix ${prefix}`);
    }
  }

  // ---------------------------------------------------------------- presentation

  /** Picks the first credential of an accepted type and the disclosures for the query's claim paths. */
  select(query: Record<string, any>, credential?: StoredCredential): { credential: StoredCredential; disclosures: StoredDisclosure[] } {
    const chosen = credential ?? this.credentials.find((c) => query.meta?.vct_values?.includes(c.vct));
    if (!chosen) throw new WalletError('dcql', `no credential for ${query.id}`);
    const picked = new Set<StoredDisclosure>();
    const byDigest = new Map(chosen.disclosures.map((d) => [d.digest, d]));
    const descend = (node: any, path: unknown[]) => {
      if (!path.length || !node || typeof node !== 'object') return;
      const [head, ...tail] = path;
      for (const digest of node._sd ?? []) {
        const found = byDigest.get(digest);
        if (found && found.value.length === 3 && found.value[1] === head) {
          picked.add(found);
          descend(found.value[2], tail);
        }
      }
      if (typeof head === 'string' && head in node) descend(node[head], tail);
    };
    for (const claim of query.claims ?? []) descend(chosen.payload, claim.path);
    return { credential: chosen, disclosures: chosen.disclosures.filter((d) => picked.has(d)) };
  }

  /** `<issuer-jwt>~<disclosures>~<kb-jwt>` with the knobs applied. */
  async present(selection: { credential: StoredCredential; disclosures: StoredDisclosure[] }, request: WalletRequest, o: PresentOptions = {}): Promise<string> {
    const jwt = o.tamperJwt ? o.tamperJwt(selection.credential.jwt) : selection.credential.jwt;
    let disclosures = selection.disclosures.map((d) => d.encoded);
    if (o.extra) disclosures = disclosures.concat(o.extra);
    if (o.duplicate) disclosures = disclosures.concat(disclosures.slice(0, 1));
    const sdJwt = `${jwt}~${disclosures.map((d) => `${d}~`).join('')}`;
    if (o.kb === false) return o.omitTrailingTilde ? sdJwt.slice(0, -1) : sdJwt;
    const payload = {
      iat: o.iat ?? Math.floor(Date.now() / 1000),
      aud: 'aud' in o ? o.aud : request.client_id, // the full client identifier, prefix included
      nonce: o.nonce ?? request.nonce,
      sd_hash: o.sdHash ?? sha256(sdJwt),
    };
    let kb = await new SignJWT(payload as Record<string, unknown>)
      .setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'kb+jwt' })
      .sign(o.signWith === 'other' ? this.otherKey : this.holder.privateKey);
    if (o.corruptSignature) kb = `${kb.slice(0, -6)}${kb.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
    if (o.extraAfterKb) return `${sdJwt}${o.extraAfterKb.map((d) => `${d}~`).join('')}${kb}`;
    return `${sdJwt}${kb}`;
  }

  /** direct_post of the Authorization Response (vp_token as a JSON object keyed by query id). */
  async respond(request: WalletRequest, vpToken: unknown, options: { state?: string; rewriteOrigin?: string; raw?: URLSearchParams } = {}): Promise<WalletPost> {
    const body =
      options.raw ??
      new URLSearchParams({ vp_token: typeof vpToken === 'string' ? vpToken : JSON.stringify(vpToken), state: options.state ?? request.state });
    const target = options.rewriteOrigin ? rewrite(request.response_uri, options.rewriteOrigin) : request.response_uri;
    const response = await fetch(target, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    const text = await response.text();
    let parsed: Record<string, any>;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
    return { status: response.status, body: parsed };
  }

  /** Convenience: answer the request with the first matching credential (or `credential`). */
  async answer(request: WalletRequest, options: PresentOptions & { credential?: StoredCredential } = {}): Promise<WalletPost & { presentation: string }> {
    const query = request.dcql_query.credentials[0]!;
    const presentation = await this.present(this.select(query, options.credential), request, options);
    return { ...(await this.respond(request, { [query.id]: [presentation] })), presentation };
  }

  async respondError(request: WalletRequest, error: string, description: string): Promise<WalletPost> {
    return this.respond(request, undefined, { raw: new URLSearchParams({ error, error_description: description, state: request.state }) });
  }
}

function sha256Der(der: string): string {
  return b64(createHash('sha256').update(Buffer.from(der, 'base64')).digest());
}

function rewrite(target: string, origin: string): string {
  const url = new URL(target);
  const replacement = new URL(origin);
  url.protocol = replacement.protocol;
  url.host = replacement.host;
  return url.href;
}
