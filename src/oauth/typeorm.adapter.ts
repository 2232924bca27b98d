/**
 * oidc-provider's storage adapter on TypeORM: every model in one table (`oidc_payloads`),
 * keyed by (id, model). Expired rows are invisible to `find` and swept periodically.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { IsNull, LessThan, type DataSource, type Repository } from 'typeorm';
import { OidcPayloadEntity } from './oidc-payload.entity.js';

/** Models whose rows hang off a grant and disappear when the grant is revoked. */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
  'Grant',
]);

export class TypeOrmAdapter implements Adapter {
  private readonly repo: Repository<OidcPayloadEntity>;

  constructor(
    private readonly model: string,
    dataSource: DataSource,
  ) {
    this.repo = dataSource.getRepository(OidcPayloadEntity);
  }

  /** oidc-provider constructs one adapter per model name through this factory. */
  static factory(dataSource: DataSource): (model: string) => TypeOrmAdapter {
    const cache = new Map<string, TypeOrmAdapter>();
    return (model: string) => {
      let adapter = cache.get(model);
      if (!adapter) {
        adapter = new TypeOrmAdapter(model, dataSource);
        cache.set(model, adapter);
      }
      return adapter;
    };
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const row: OidcPayloadEntity = {
      id,
      model: this.model,
      payload: JSON.stringify(payload),
      // A delegated token (token exchange) hangs off its subject's grant without claiming it as its own.
      grantId: (payload.grantId as string | undefined) ?? (payload.parentGrantId as string | undefined) ?? null,
      userCode: (payload.userCode as string | undefined) ?? null,
      uid: (payload.uid as string | undefined) ?? null,
      accountId: (payload.accountId as string | undefined) ?? null,
      expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null,
      consumedAt: null,
    };
    await this.repo.upsert(row, ['id', 'model']);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const row = await this.repo.findOne({ where: { id, model: this.model } });
    return this.toPayload(row);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const row = await this.repo.findOne({ where: { uid, model: this.model } });
    return this.toPayload(row);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const row = await this.repo.findOne({ where: { userCode, model: this.model } });
    return this.toPayload(row);
  }

  /**
   * Marks a code or token consumed. The conditional update makes consumption atomic across
   * instances: of two concurrent redemptions only one wins; the loser revokes the whole grant,
   * exactly as a later reuse would.
   */
  async consume(id: string): Promise<void> {
    const result = await this.repo.update({ id, model: this.model, consumedAt: IsNull() }, { consumedAt: Date.now() });
    if (result.affected === 0) {
      const row = await this.repo.findOne({ where: { id, model: this.model } });
      if (row?.consumedAt && row.grantId) await this.revokeByGrantId(row.grantId);
      throw new errors.InvalidGrant('grant request is invalid');
    }
  }

  /**
   * Undoes a consumption. Used when a refresh fails after oidc-provider rotated the refresh
   * token (a claim source was unavailable): the client keeps a working refresh token.
   */
  async unconsume(id: string): Promise<void> {
    await this.repo.update({ id, model: this.model }, { consumedAt: null });
  }

  async destroy(id: string): Promise<void> {
    await this.repo.delete({ id, model: this.model });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // One statement removes every model of the grant (codes, refresh tokens, the grant itself):
    // a reused refresh token or code kills the whole family on every instance at once.
    await this.repo
      .createQueryBuilder()
      .delete()
      .where('grant_id = :grantId', { grantId })
      .orWhere('(model = :grant AND id = :grantId)', { grant: 'Grant', grantId })
      .execute();
  }

  private toPayload(row: OidcPayloadEntity | null): AdapterPayload | undefined {
    if (!row) return undefined;
    if (row.expiresAt !== null && row.expiresAt <= Date.now()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumedAt) payload.consumed = Math.floor(row.consumedAt / 1000);
    return payload;
  }
}

/** Deletes expired rows; run periodically by the storage module. */
export async function sweepExpiredPayloads(dataSource: DataSource): Promise<number> {
  const result = await dataSource.getRepository(OidcPayloadEntity).delete({ expiresAt: LessThan(Date.now() - 60_000) });
  return result.affected ?? 0;
}

export { GRANTABLE };
