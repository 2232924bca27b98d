/**
 * Signing keys in the database, shared by every Herald instance and by the CLI.
 *
 * - On start, each algorithm in use gets a key if it has none (generated, never logged).
 * - `rotate()` adds a new key per algorithm; the previous key stops signing at once but stays
 *   published until `retireAt` = now + the longest lifetime of anything it signed + leeway.
 * - Keys past `retireAt` are deleted by `prune()`.
 */
import type { DataSource, Repository } from 'typeorm';
import type { HeraldConfig, SigningAlgorithm } from '../config/config.schema.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { generateSigningKey } from './key-generation.js';
import { openPrivateJwk, sealPrivateJwk } from './key-crypto.js';
import type { HeraldSigningKey } from './signing-key.js';

/** Clock skew that verifiers may allow, added to a retired key's publication. */
const RETIREMENT_LEEWAY_MS = 5 * 60 * 1000;

export interface KeyInfo {
  kid: string;
  alg: string;
  createdAt: number;
  state: 'active' | 'retiring';
  retireAt: number | null;
}

export interface KeySnapshot {
  version: string;
  /** Published keys (not yet retired). */
  rows: SigningKeyEntity[];
  /** Keys deleted by this snapshot because their retirement time passed. */
  pruned: string[];
}

function fingerprint(keys: Array<Pick<SigningKeyEntity, 'kid' | 'supersededAt'>>): string {
  return keys
    .map((key) => `${key.kid}:${key.supersededAt ?? ''}`)
    .sort()
    .join(',');
}

export class KeyStore {
  private readonly repo: Repository<SigningKeyEntity>;

  constructor(
    dataSource: DataSource,
    private readonly config: HeraldConfig,
  ) {
    this.repo = dataSource.getRepository(SigningKeyEntity);
  }

  /** Algorithms some token needs: access tokens per API, ID tokens per client, RS256 always. */
  algorithmsInUse(): SigningAlgorithm[] {
    const algs = new Set<SigningAlgorithm>(['RS256', this.config.keys.defaultAlgorithm]);
    for (const api of this.config.apis) algs.add(api.signingAlg ?? this.config.keys.defaultAlgorithm);
    for (const client of this.config.clients) algs.add(client.idTokenSigningAlg);
    return [...algs].sort();
  }

  /** The longest lifetime of a JWT that a key may have signed, in ms. */
  private longestTokenLifetimeMs(): number {
    const ttls = [this.config.tokens.idTokenTtl, this.config.tokens.userinfoAccessTokenTtl, ...this.config.apis.map((api) => api.accessTokenTtl)];
    return Math.max(...ttls) * 1000;
  }

  /** Makes sure each algorithm in use has a signing key; returns the kids it created. */
  async ensureKeys(): Promise<string[]> {
    const existing = await this.repo.find();
    const created: string[] = [];
    for (const alg of this.algorithmsInUse()) {
      if (existing.some((key) => key.alg === alg && key.supersededAt === null)) continue;
      created.push(await this.insert(alg));
    }
    return created;
  }

  /** Adds a new signing key for every algorithm in use and schedules the old ones' retirement. */
  async rotate(): Promise<{ created: string[]; retiring: string[] }> {
    const now = Date.now();
    const retireAt = now + this.longestTokenLifetimeMs() + RETIREMENT_LEEWAY_MS;
    const current = await this.repo.find();
    const created: string[] = [];
    const retiring: string[] = [];
    for (const alg of this.algorithmsInUse()) {
      created.push(await this.insert(alg));
      for (const key of current.filter((k) => k.alg === alg && k.supersededAt === null)) {
        await this.repo.update({ kid: key.kid }, { supersededAt: now, retireAt });
        retiring.push(key.kid);
      }
    }
    return { created, retiring };
  }

  /**
   * One read of the key table: deletes keys past their retirement and returns the published ones
   * with their fingerprint (what an instance polls to notice a rotation made elsewhere).
   */
  async snapshot(now = Date.now()): Promise<KeySnapshot> {
    const rows = await this.repo.find();
    const pruned = rows.filter((key) => key.retireAt !== null && key.retireAt <= now).map((key) => key.kid);
    if (pruned.length) await this.repo.delete(pruned.map((kid) => ({ kid })));
    const live = rows.filter((key) => !pruned.includes(key.kid));
    return { version: fingerprint(live), rows: live, pruned };
  }

  async prune(now = Date.now()): Promise<string[]> {
    return (await this.snapshot(now)).pruned;
  }

  async list(): Promise<KeyInfo[]> {
    const keys = await this.repo.find();
    return keys
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((key) => ({
        kid: key.kid,
        alg: key.alg,
        createdAt: key.createdAt,
        state: key.supersededAt === null ? 'active' : 'retiring',
        retireAt: key.retireAt,
      }));
  }

  /** A fingerprint of the key set; instances compare it to notice a rotation made elsewhere. */
  async version(): Promise<string> {
    return fingerprint(await this.repo.find({ select: { kid: true, supersededAt: true } }));
  }

  /**
   * Published keys as signing keys for oidc-provider, newest first within each algorithm so
   * that the newest key is the one that signs.
   */
  async loadSigningKeys(rows?: SigningKeyEntity[]): Promise<HeraldSigningKey[]> {
    // Loaded lazily: the CLI's key commands should not pull in oidc-provider.
    const { HeraldSigningKey } = await import('./signing-key.js');
    const now = Date.now();
    const keys = (rows ?? (await this.repo.find()))
      .filter((key) => key.retireAt === null || key.retireAt > now)
      .sort((a, b) => {
        // Active keys before retiring ones; among equals, the newest first.
        const activeFirst = Number(a.supersededAt !== null) - Number(b.supersededAt !== null);
        return activeFirst || b.createdAt - a.createdAt;
      });
    return keys.map(
      (key) =>
        new HeraldSigningKey(key.kid, key.alg as SigningAlgorithm, JSON.parse(openPrivateJwk(key.privateJwk, this.config.keys.encryptionSecret))),
    );
  }

  private async insert(alg: SigningAlgorithm): Promise<string> {
    const generated = generateSigningKey(alg);
    await this.repo.insert({
      kid: generated.kid,
      alg,
      privateJwk: sealPrivateJwk(JSON.stringify(generated.privateJwk), this.config.keys.encryptionSecret),
      publicJwk: JSON.stringify(generated.publicJwk),
      createdAt: Date.now(),
      supersededAt: null,
      retireAt: null,
    });
    return generated.kid;
  }
}
