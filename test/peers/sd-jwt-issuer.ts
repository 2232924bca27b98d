/**
 * A credential issuer peer: mints SD-JWT VCs (`dc+sd-jwt`) with @sd-jwt/sd-jwt-vc 0.19, bound
 * to a holder key (`cnf.jwk`) and pointing at a Token Status List it maintains with
 * @sd-jwt/jwt-status-list. `craft()` signs arbitrary payloads and disclosures with the issuer's
 * real key, to play a buggy-but-trusted issuer in attack cases.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { StatusList, createHeaderAndPayload } from '@sd-jwt/jwt-status-list';

export const PID_VCT = 'urn:eudi:pid:1';
export const STATUS = { VALID: 0, INVALID: 1, SUSPENDED: 2 } as const;

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const b64json = (value: unknown) => b64(JSON.stringify(value));

export interface IssuerKey {
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

export function newIssuerKey(): IssuerKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) as JsonWebKey };
}

/** ES256 signer in the shape @sd-jwt wants: base64url JOSE (r||s) signature of the signing input. */
export function es256(privateKey: KeyObject) {
  return (data: string) => b64(sign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' }));
}

export interface CraftedDisclosure {
  encoded: string;
  digest: string;
}

export interface IssueOptions {
  holderJwk?: JsonWebKey;
  vct?: string;
  exp?: number;
  nbf?: number;
  /** Omit the `status` claim. */
  withoutStatus?: boolean;
  /** Status list URI to reference (default: the issuer's own list). */
  statusUri?: string;
  /** Extra or replaced claims. */
  claims?: Record<string, unknown>;
}

export class SdJwtIssuer {
  readonly key: IssuerKey;
  /** Certificate chain for the `x5c` header (leaf first); without it the header carries `kid`. */
  readonly x5c?: string[];
  private readonly sdJwt: SDJwtVcInstance;
  private readonly list = new StatusList(new Array(1024).fill(0), 2);
  private nextIndex = 0;
  /** Set by the status list server that publishes this issuer's list. */
  statusUri = '';

  constructor(
    readonly iss: string,
    readonly kid = 'issuer-key-1',
    options: { key?: IssuerKey; x5c?: string[] } = {},
  ) {
    this.key = options.key ?? newIssuerKey();
    this.x5c = options.x5c;
    this.sdJwt = new SDJwtVcInstance({ signer: es256(this.key.privateKey), signAlg: 'ES256', hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt });
  }

  get jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [{ ...this.key.publicJwk, kid: this.kid, alg: 'ES256', use: 'sig' }] };
  }

  private header(): Record<string, unknown> {
    return this.x5c ? { x5c: this.x5c } : { kid: this.kid };
  }

  /** A PID-like credential; every personal claim is selectively disclosable, address per field. */
  async issue(options: IssueOptions = {}): Promise<{ credential: string; statusIndex?: number }> {
    const now = Math.floor(Date.now() / 1000);
    const statusIndex = options.withoutStatus ? undefined : this.nextIndex++;
    const payload: Record<string, unknown> = {
      iss: this.iss,
      iat: now,
      ...(options.nbf !== undefined ? { nbf: options.nbf } : {}),
      exp: options.exp ?? now + 3600,
      vct: options.vct ?? PID_VCT,
      ...(options.holderJwk ? { cnf: { jwk: options.holderJwk } } : {}),
      ...(statusIndex !== undefined ? { status: { status_list: { idx: statusIndex, uri: options.statusUri ?? this.statusUri } } } : {}),
      given_name: 'Erika',
      family_name: 'Mustermann',
      birthdate: '1964-08-12',
      nationality: 'DE',
      email: 'erika@example.test',
      personal_administrative_number: 'PAN-4711',
      address: { locality: 'Berlin', country: 'DE', street_address: 'Heidestrasse 17' },
      ...options.claims,
    };
    const frame = {
      _sd: ['given_name', 'family_name', 'birthdate', 'nationality', 'email', 'personal_administrative_number', 'address'],
      address: { _sd: ['locality', 'country', 'street_address'] },
      _sd_decoy: 2,
    };
    const credential = await this.sdJwt.issue(payload as any, frame as any, { header: this.header() });
    return { credential, statusIndex };
  }

  /** An issuer-signed SD-JWT with exactly this header, payload and disclosures (no checks). */
  craft(payload: Record<string, unknown>, disclosures: CraftedDisclosure[] = [], header: Record<string, unknown> = {}): string {
    const input = `${b64json({ alg: 'ES256', typ: 'dc+sd-jwt', ...this.header(), ...header })}.${b64json(payload)}`;
    const signature = es256(this.key.privateKey)(input);
    return `${input}.${signature}~${disclosures.map((d) => `${d.encoded}~`).join('')}`;
  }

  static disclosure(value: unknown[], hash = 'sha256'): CraftedDisclosure {
    const encoded = b64json(value);
    return { encoded, digest: b64(createHash(hash).update(encoded).digest()) };
  }

  setStatus(index: number, value: number): void {
    this.list.setStatus(index, value);
  }

  /** A Status List Token for `uri`; the options break it in one way each. */
  statusListToken(uri: string, options: { sub?: string; typ?: string; badSignature?: boolean; exp?: number; ttl?: number; signWith?: KeyObject } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const { header, payload } = createHeaderAndPayload(
      new StatusList([...this.list.statusList], 2), // createHeaderAndPayload mutates its input
      { iss: this.iss, sub: options.sub ?? uri, iat: now, exp: options.exp ?? now + 600, ttl: options.ttl ?? 60 },
      { alg: 'ES256', typ: 'statuslist+jwt', ...this.header() } as any,
    );
    if (options.typ) (header as Record<string, unknown>).typ = options.typ;
    const input = `${b64json(header)}.${b64json(payload)}`;
    let signature = es256(options.signWith ?? this.key.privateKey)(input);
    if (options.badSignature) signature = `${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    return `${input}.${signature}`;
  }
}

export const randomSalt = () => randomBytes(16).toString('base64url');
