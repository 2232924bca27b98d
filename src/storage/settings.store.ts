/** Installation secrets generated on first start and shared by every instance through the database. */
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SettingEntity } from './setting.entity.js';

export class SettingsStore {
  constructor(private readonly dataSource: DataSource) {}

  async get(name: string): Promise<string | undefined> {
    const row = await this.dataSource.getRepository(SettingEntity).findOne({ where: { name } });
    return row?.value;
  }

  /** Returns the stored value, creating it with `create()` if absent (first writer wins). */
  async getOrCreate(name: string, create: () => string): Promise<string> {
    const existing = await this.get(name);
    if (existing !== undefined) return existing;
    try {
      await this.dataSource.getRepository(SettingEntity).insert({ name, value: create() });
    } catch {
      // Another instance created it at the same moment: use theirs.
    }
    return (await this.get(name))!;
  }

  /** Cookie signing keys for oidc-provider (keygrip: the first signs, all verify). */
  async cookieKeys(): Promise<string[]> {
    const value = await this.getOrCreate('cookie_keys', () => JSON.stringify([randomBytes(32).toString('base64url')]));
    return JSON.parse(value) as string[];
  }
}
