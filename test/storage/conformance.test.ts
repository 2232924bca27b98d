/**
 * One storage conformance suite for every database Herald supports: SQLite always, PostgreSQL
 * when HERALD_TEST_POSTGRES_URL is set. Each run gets a fresh database (file or schema).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { openDataSource } from '../../src/storage/data-source.js';
import { TypeOrmAdapter } from '../../src/oauth/typeorm.adapter.js';
import { ExpiringKeysStore } from '../../src/storage/expiring-keys.store.js';
import { DatabaseFlowStateStore } from '../../src/connectors/flow-state.store.js';
import { KeyStore } from '../../src/tokens/key.store.js';
import { SigningKeyEntity } from '../../src/tokens/signing-key.entity.js';
import { UsersRepository, UsernameTakenError } from '../../src/users/users.repository.js';
import { validateConfig } from '../../src/config/config.loader.js';
import { postgresUrl } from '../support/herald.js';

const databases: Array<[string, () => { url: string; cleanup: () => Promise<void> }]> = [
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-conformance-'));
      return { url: `sqlite:${join(dir, 'db.sqlite')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];
const pg = postgresUrl();
if (pg) {
  databases.push([
    'postgres',
    () => {
      const schema = `herald_conf_${randomBytes(5).toString('hex')}`;
      const url = new URL(pg);
      url.searchParams.set('schema', schema);
      return {
        url: url.href,
        cleanup: async () => {
          const admin = new DataSource({ type: 'postgres', url: pg });
          await admin.initialize();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.destroy();
        },
      };
    },
  ]);
}

describe.each(databases)('storage conformance on %s', (_kind, makeDatabase) => {
  let dataSource: DataSource;
  let database: { url: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    database = makeDatabase();
    dataSource = await openDataSource({ url: database.url });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.cleanup();
  });

  test('migrations are applied once and re-opening is a no-op', async () => {
    const again = await openDataSource({ url: database.url });
    const applied = await again.query('SELECT name FROM migrations');
    expect(applied.map((row: { name: string }) => row.name)).toEqual(expect.arrayContaining(['Initial1764547200000']));
    expect(new Set(applied.map((row: { name: string }) => row.name)).size).toBe(applied.length);
    await again.destroy();
  });

  describe('oidc-provider adapter', () => {
    const grantId = 'grant-1';
    test('upsert, find, find by uid and user code, destroy', async () => {
      const sessions = new TypeOrmAdapter('Session', dataSource);
      await sessions.upsert('s1', { uid: 'u1', accountId: 'a1', kind: 'Session' } as any, 60);
      expect(await sessions.find('s1')).toMatchObject({ uid: 'u1', accountId: 'a1' });
      expect(await sessions.findByUid('u1')).toMatchObject({ uid: 'u1' });
      await sessions.upsert('s1', { uid: 'u1', accountId: 'a2', kind: 'Session' } as any, 60);
      expect(await sessions.find('s1')).toMatchObject({ accountId: 'a2' });
      const devices = new TypeOrmAdapter('DeviceCode', dataSource);
      await devices.upsert('d1', { userCode: 'ABCD', kind: 'DeviceCode' } as any, 60);
      expect(await devices.findByUserCode('ABCD')).toMatchObject({ userCode: 'ABCD' });
      // Models are separate namespaces.
      expect(await devices.find('s1')).toBeUndefined();
      await sessions.destroy('s1');
      expect(await sessions.find('s1')).toBeUndefined();
    });

    test('expired payloads are invisible', async () => {
      const codes = new TypeOrmAdapter('AuthorizationCode', dataSource);
      await codes.upsert('old', { kind: 'AuthorizationCode' } as any, 1);
      await dataSource.query(`UPDATE oidc_payloads SET expires_at = ${Date.now() - 1000} WHERE id = 'old'`);
      expect(await codes.find('old')).toBeUndefined();
    });

    test('consume is once only: a second consumption revokes the grant', async () => {
      const codes = new TypeOrmAdapter('AuthorizationCode', dataSource);
      const refresh = new TypeOrmAdapter('RefreshToken', dataSource);
      const grants = new TypeOrmAdapter('Grant', dataSource);
      await grants.upsert(grantId, { kind: 'Grant' } as any, 600);
      await codes.upsert('c1', { kind: 'AuthorizationCode', grantId } as any, 60);
      await refresh.upsert('r1', { kind: 'RefreshToken', grantId } as any, 600);
      const results = await Promise.allSettled([codes.consume('c1'), codes.consume('c1'), codes.consume('c1')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.error)).toEqual(['invalid_grant', 'invalid_grant']);
      expect(await refresh.find('r1')).toBeUndefined();
      expect(await grants.find(grantId)).toBeUndefined();
    });

    test('revokeByGrantId removes every model of the grant and nothing else', async () => {
      const access = new TypeOrmAdapter('AccessToken', dataSource);
      const refresh = new TypeOrmAdapter('RefreshToken', dataSource);
      const grants = new TypeOrmAdapter('Grant', dataSource);
      await grants.upsert('g2', { kind: 'Grant' } as any, 600);
      await access.upsert('a2', { kind: 'AccessToken', grantId: 'g2' } as any, 600);
      await refresh.upsert('r2', { kind: 'RefreshToken', grantId: 'g2' } as any, 600);
      await refresh.upsert('r3', { kind: 'RefreshToken', grantId: 'g3' } as any, 600);
      await refresh.revokeByGrantId('g2');
      expect(await access.find('a2')).toBeUndefined();
      expect(await refresh.find('r2')).toBeUndefined();
      expect(await grants.find('g2')).toBeUndefined();
      expect(await refresh.find('r3')).toBeDefined();
    });
  });

  test('expiring keys: a key is claimed once, concurrently too, and reusable after expiry', async () => {
    const store = new ExpiringKeysStore(dataSource);
    const key = `assertion:${randomBytes(8).toString('hex')}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => store.claim(key, Date.now() + 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.claim(key, Date.now() + 60_000)).toBe(false);
    expect(await store.has(key)).toBe(true);
    const stale = `stale:${randomBytes(8).toString('hex')}`;
    expect(await store.claim(stale, Date.now() - 1)).toBe(true);
    expect(await store.has(stale)).toBe(false);
    expect(await store.claim(stale, Date.now() + 60_000)).toBe(true);
  });

  test('flow state: take-once (also concurrently), peek, update, scopes, expiry', async () => {
    const store = new DatabaseFlowStateStore(dataSource).scoped('connector:test');
    await store.put('state-1', { nonce: 'n', verifier: 'v' }, 60);
    expect(await store.peek('state-1')).toEqual({ nonce: 'n', verifier: 'v' });
    expect(await store.update('state-1', { nonce: 'n2' })).toBe(true);
    const takes = await Promise.all([store.take('state-1'), store.take('state-1'), store.take('state-1')]);
    expect(takes.filter(Boolean)).toEqual([{ nonce: 'n2' }]);
    expect(await store.take('state-1')).toBeUndefined();
    const other = new DatabaseFlowStateStore(dataSource).scoped('connector:other');
    await store.put('shared-name', { a: 1 }, 60);
    expect(await other.peek('shared-name')).toBeUndefined();
    await store.put('short', { a: 1 }, 60);
    await dataSource.query(`UPDATE flow_states SET expires_at = ${Date.now() - 1} WHERE key LIKE '%short'`);
    expect(await store.take('short')).toBeUndefined();
  });

  test('signing keys: generated per algorithm, rotated, retired, encrypted at rest', async () => {
    const { config } = validateConfig(
      { issuer: 'https://login.example.com', apis: [{ id: 'a', identifier: 'https://a.example', scopes: ['s'], signingAlg: 'EdDSA', accessTokenTtl: 60 }], keys: { encryptionSecret: 'k'.repeat(40) } },
      { env: {} },
    );
    await dataSource.getRepository(SigningKeyEntity).clear();
    const keys = new KeyStore(dataSource, config);
    const created = await keys.ensureKeys();
    expect(created).toHaveLength(3); // ES256 (default), EdDSA (API), RS256 (ID tokens)
    expect(await keys.ensureKeys()).toEqual([]);
    const rows = await dataSource.getRepository(SigningKeyEntity).find();
    for (const row of rows) expect(row.privateJwk.startsWith('enc:v1:')).toBe(true);

    const rotation = await keys.rotate();
    expect(rotation.created).toHaveLength(3);
    expect(rotation.retiring.sort()).toEqual(created.sort());
    const loaded = await keys.loadSigningKeys();
    expect(loaded.map((k) => k.kid).slice(0, 3).sort()).toEqual(rotation.created.sort());
    expect(loaded).toHaveLength(6);
    expect(await keys.prune(Date.now())).toEqual([]);
    const pruned = await keys.prune(Date.now() + 2 * 3600_000);
    expect(pruned.sort()).toEqual(created.sort());
    expect(await keys.loadSigningKeys()).toHaveLength(3);

    const wrongSecret = new KeyStore(dataSource, { ...config, keys: { ...config.keys, encryptionSecret: 'x'.repeat(40) } });
    await expect(wrongSecret.loadSigningKeys()).rejects.toThrow(/encryptionSecret/);
  });

  test('accounts: userName is unique case-insensitively; links are unique per connector and subject', async () => {
    const users = new UsersRepository(dataSource);
    const user = await users.create({ userName: 'Bjorn@Example.com' });
    await expect(users.create({ userName: 'bjorn@example.COM' })).rejects.toBeInstanceOf(UsernameTakenError);
    expect((await users.findByUserName('BJORN@example.com'))?.id).toBe(user.id);
    await users.addLink(user.id, 'corp', 'sub-1', { a: 1 });
    await expect(users.addLink(user.id, 'corp', 'sub-1', null)).rejects.toThrow();
    expect((await users.findLink('corp', 'sub-1'))?.userId).toBe(user.id);
    expect(await users.findLink('other', 'sub-1')).toBeNull();
  });
});
