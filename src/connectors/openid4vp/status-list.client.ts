/**
 * Token Status List client (draft-ietf-oauth-status-list) for credential revocation and
 * suspension. Herald's own instead of @sd-jwt/sd-jwt-vc's built-in one, which follows redirects,
 * has no size cap and no cache, checks neither `sub` nor `typ`, and inflates without an
 * output limit into one JS number per entry (a 65 KB token exhausts the heap).
 *
 * Herald's policy: the token must be signed by a key of the credential's own trusted issuer entry
 * (a separate status issuer needs its own trust configuration, not supported yet); lists are
 * cached per URI for the token's `ttl` (clamped) and never beyond its `exp`; concurrent lookups
 * of one URI share a fetch.
 */
import { inflateSync } from 'node:zlib';
import { COMPACT_JWS, decodeJsonPart, verifyJws, type JwsAlgorithm } from './jws.js';
import { guardedGet, GuardedGetError } from './guarded-get.js';
import type { IssuerTrust } from './issuer-trust.js';
import { reject } from './presentation-rejected.js';

export interface StatusListSettings {
  timeoutMs: number;
  maxBytes: number;
  maxInflatedBytes: number;
  minCacheSeconds: number;
  maxCacheSeconds: number;
  clockSkewSeconds: number;
  allowHttp: boolean;
  allowPrivateNetwork: boolean;
}

interface CachedList {
  bits: number;
  list: Buffer;
  expiresAt: number;
}

export const STATUS_VALID = 0;
export const STATUS_INVALID = 1;
export const STATUS_SUSPENDED = 2;

const MAX_CACHE_ENTRIES = 1000;

export class StatusListClient {
  private readonly cache = new Map<string, CachedList>();
  private readonly inflight = new Map<string, Promise<CachedList>>();
  /** Number of network fetches (observability and tests). */
  fetches = 0;

  constructor(
    private readonly trust: IssuerTrust,
    private readonly settings: StatusListSettings,
  ) {}

  /** The status value at `idx` of the list at `uri`, after every token check. */
  async statusOf(uri: string, idx: number, iss: string): Promise<number> {
    if (!Number.isSafeInteger(idx) || idx < 0) reject('status_malformed', `status_list.idx ${idx} is not a non-negative integer`);
    const entry = await this.list(uri, iss);
    return readStatus(entry.list, entry.bits, idx);
  }

  /** Cached per (issuer, uri): a list verified with one issuer's keys never serves another's credentials. */
  private async list(uri: string, iss: string): Promise<CachedList> {
    const key = `${iss} ${uri}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit;
    const running = this.inflight.get(key);
    if (running) return running;
    const pending = this.fetchAndVerify(uri, iss)
      .then((entry) => {
        if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, entry);
        return entry;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, pending);
    return pending;
  }

  private async fetchAndVerify(uri: string, iss: string): Promise<CachedList> {
    if (!URL.canParse(uri)) reject('status_malformed', 'status_list.uri is not a URL');
    this.fetches++;
    let response;
    try {
      response = await guardedGet(new URL(uri), {
        timeoutMs: this.settings.timeoutMs,
        maxBytes: this.settings.maxBytes,
        accept: 'application/statuslist+jwt',
        allowHttp: this.settings.allowHttp,
        allowPrivateNetwork: this.settings.allowPrivateNetwork,
      });
    } catch (error) {
      reject('status_unavailable', `status list fetch failed: ${error instanceof GuardedGetError ? error.message : String(error)}`, 'invalid_request', error);
    }
    if (response.status !== 200) reject('status_unavailable', `status list answered HTTP ${response.status}`);
    if (response.contentType.split(';')[0]!.trim().toLowerCase() !== 'application/statuslist+jwt') {
      reject('status_unavailable', `status list content-type ${response.contentType}`);
    }
    const token = response.body.toString('ascii').trim();
    if (!COMPACT_JWS.test(token)) reject('status_token_invalid', 'status list token is not a compact JWS');
    const [h64, p64, signature] = token.split('.') as [string, string, string];
    let header: Record<string, any>;
    let payload: Record<string, any>;
    try {
      header = decodeJsonPart(h64);
      payload = decodeJsonPart(p64);
    } catch {
      reject('status_token_invalid', 'status list token cannot be decoded');
    }
    if (header.typ !== 'statuslist+jwt') reject('status_token_invalid', `status list token typ ${String(header.typ)}`);
    if (header.crit !== undefined) reject('status_token_invalid', 'crit is not supported');
    // Signed by the credential issuer's own trusted keys (status list spec §8.3 step 1).
    const key = await this.trust.keyFor(this.trust.entryFor(iss), header, 'status_token_invalid');
    if (!verifyJws(header.alg as JwsAlgorithm, key, `${h64}.${p64}`, signature)) reject('status_token_invalid', 'status list token signature is invalid');
    if (payload.sub !== uri) reject('status_token_invalid', `status list token sub ${String(payload.sub)} is not the referenced uri`);
    const now = Math.floor(Date.now() / 1000);
    const skew = this.settings.clockSkewSeconds;
    if (typeof payload.iat !== 'number') reject('status_token_invalid', 'status list token has no iat');
    if (payload.iat - skew > now) reject('status_token_invalid', 'status list token iat is in the future');
    if (payload.exp !== undefined && (typeof payload.exp !== 'number' || payload.exp + skew <= now)) reject('status_token_invalid', 'status list token expired');
    const statusList = payload.status_list;
    if (!statusList || ![1, 2, 4, 8].includes(statusList.bits) || typeof statusList.lst !== 'string') reject('status_token_invalid', 'malformed status_list claim');
    let list: Buffer;
    try {
      list = inflateSync(Buffer.from(statusList.lst, 'base64url'), { maxOutputLength: this.settings.maxInflatedBytes });
    } catch (error) {
      reject('status_token_invalid', `status list cannot be inflated: ${(error as { code?: string }).code ?? String(error)}`);
    }
    const ttl = typeof payload.ttl === 'number' && payload.ttl > 0 ? payload.ttl : this.settings.maxCacheSeconds;
    let lifetime = Math.min(Math.max(ttl, this.settings.minCacheSeconds), this.settings.maxCacheSeconds);
    if (typeof payload.exp === 'number') lifetime = Math.min(lifetime, Math.max(payload.exp - now, 0));
    return { bits: statusList.bits, list, expiresAt: Date.now() + lifetime * 1000 };
  }
}

/** The value at `idx` in a status list of `bits`-bit entries, least significant bits first (§4.1). */
export function readStatus(list: Buffer, bits: number, idx: number): number {
  const bitOffset = idx * bits;
  const byte = Math.floor(bitOffset / 8);
  if (!Number.isSafeInteger(bitOffset) || byte >= list.length) reject('status_index_out_of_range', `idx ${idx} is beyond the list (${(list.length * 8) / bits} entries)`);
  return (list[byte]! >> bitOffset % 8) & ((1 << bits) - 1);
}
