/**
 * Which credential issuers this connector trusts, and with which keys. An entry is selected by
 * the credential's *signed* `iss` claim (exact match); its key comes from configuration only:
 * an inline JWKS, a configured JWKS URL, or an `x5c` header chain that must end at a configured
 * trust anchor. Nothing is resolved from the untrusted `iss` itself (no issuer metadata lookup).
 */
import { KeyObject, X509Certificate, type webcrypto } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JSONWebKeySet, type JWK } from 'jose';
import { guardedGet } from './guarded-get.js';
import { isAllowedAlg } from './jws.js';
import { reject } from './presentation-rejected.js';

export interface TrustedIssuerInput {
  issuer: string;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
  /** PEM certificates (already read from files). */
  x5cTrustAnchors?: string[];
}

type KeySelector = (header: { alg: string; kid?: string }) => Promise<KeyObject>;

interface TrustEntry {
  issuer: string;
  jwks?: KeySelector;
  anchors?: X509Certificate[];
}

export interface IssuerTrustOptions {
  /** Allow http:// JWKS URLs (development only). */
  allowHttp: boolean;
  jwksTimeoutMs?: number;
}

const MAX_CHAIN = 5;
const JWKS_MAX_BYTES = 256 * 1024;

export function parsePemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

export class IssuerTrust {
  private readonly entries = new Map<string, TrustEntry>();

  constructor(inputs: TrustedIssuerInput[], options: IssuerTrustOptions) {
    for (const input of inputs) {
      const entry: TrustEntry = { issuer: input.issuer };
      if (input.jwks) {
        const set = createLocalJWKSet(input.jwks as unknown as JSONWebKeySet);
        entry.jwks = async (header) => toKeyObject(await set(header));
      } else if (input.jwksUri) {
        const url = new URL(input.jwksUri);
        if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) throw new Error(`jwksUri must be https: ${input.jwksUri}`);
        const timeoutMs = options.jwksTimeoutMs ?? 3000;
        const set = createRemoteJWKSet(url, {
          timeoutDuration: timeoutMs,
          cooldownDuration: 30_000,
          cacheMaxAge: 600_000,
          // Same transport as status lists: no redirects and a byte cap. The URL is operator
          // configuration, so private networks are allowed here.
          [customFetch]: async (target: string) => {
            const response = await guardedGet(new URL(target), {
              timeoutMs,
              maxBytes: JWKS_MAX_BYTES,
              accept: 'application/json, application/jwk-set+json',
              allowHttp: options.allowHttp,
              allowPrivateNetwork: true,
            });
            return new Response(new Uint8Array(response.body), { status: response.status, headers: { 'content-type': response.contentType } });
          },
        });
        entry.jwks = async (header) => toKeyObject(await set(header));
      } else if (input.x5cTrustAnchors) {
        entry.anchors = input.x5cTrustAnchors.flatMap((pem) => parsePemCertificates(pem));
        if (!entry.anchors.length) throw new Error(`issuer ${input.issuer}: no certificate in x5cTrustAnchors`);
      }
      this.entries.set(input.issuer, entry);
    }
  }

  /** The entry for a signed `iss`, or the `issuer_untrusted` check fails. */
  entryFor(iss: unknown): TrustEntry {
    if (typeof iss !== 'string' || !iss) reject('issuer_untrusted', 'credential has no iss claim');
    const entry = this.entries.get(iss);
    if (!entry) reject('issuer_untrusted', `issuer ${iss} is not trusted by this connector`);
    return entry;
  }

  /**
   * The key that must have signed a JWS (credential or status list token) from `entry`;
   * failures are reported under `check`.
   */
  async keyFor(entry: TrustEntry, header: Record<string, unknown>, check: string, now = new Date()): Promise<KeyObject> {
    const alg = header.alg;
    if (!isAllowedAlg(alg)) reject(check, `alg ${String(alg)} not allowed`);
    if (header.x5c !== undefined) {
      if (!entry.anchors) reject(check, 'x5c header, but the issuer is configured with keys, not X.509 trust anchors');
      return this.validateChain(header.x5c, entry, now, check);
    }
    if (!entry.jwks) reject(check, 'issuer is configured with X.509 trust anchors, but the JWS has no x5c header');
    if (header.kid !== undefined && typeof header.kid !== 'string') reject(check, 'kid is not a string');
    try {
      return await entry.jwks({ alg, kid: header.kid as string | undefined });
    } catch (error) {
      reject(check, `no matching issuer key (kid ${String(header.kid)}): ${(error as { code?: string }).code ?? String(error)}`, 'invalid_request', error);
    }
  }

  private validateChain(x5c: unknown, entry: TrustEntry, now: Date, check: string): KeyObject {
    if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN || !x5c.every((c) => typeof c === 'string')) reject(check, 'malformed x5c');
    let chain: X509Certificate[];
    try {
      chain = (x5c as string[]).map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
    } catch {
      reject(check, 'x5c certificate cannot be parsed');
    }
    const current = (cert: X509Certificate) => new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
    for (const cert of chain) if (!current(cert)) reject(check, `certificate "${cert.subject}" is not valid now`);
    for (let i = 0; i < chain.length - 1; i++) {
      const [child, parent] = [chain[i]!, chain[i + 1]!];
      if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) reject(check, 'x5c chain is broken');
    }
    const last = chain[chain.length - 1]!;
    const anchored = entry.anchors!.some(
      (anchor) => anchor.raw.equals(last.raw) || (anchor.ca && current(anchor) && last.checkIssued(anchor) && last.verify(anchor.publicKey)),
    );
    if (!anchored) reject(check, 'x5c chain does not end at a trust anchor configured for this issuer');
    const leaf = chain[0]!;
    if (leaf.ca) reject(check, 'x5c leaf certificate is a CA certificate');
    // The issuer is the subject of the leaf: bind it to the configured identifier through its SAN.
    const sans = (leaf.subjectAltName ?? '').split(', ');
    const host = URL.canParse(entry.issuer) ? new URL(entry.issuer).hostname : undefined;
    if (!sans.includes(`URI:${entry.issuer}`) && !(host && sans.includes(`DNS:${host}`))) {
      reject(check, `leaf certificate SAN (${leaf.subjectAltName ?? 'none'}) does not name issuer ${entry.issuer}`);
    }
    return leaf.publicKey;
  }
}

function toKeyObject(key: unknown): KeyObject {
  if (key instanceof KeyObject) return key;
  return KeyObject.from(key as webcrypto.CryptoKey);
}

export type { JWK };
