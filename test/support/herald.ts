/**
 * Starts a real Herald on a loopback port for end-to-end tests. The database is a fresh SQLite
 * file, or — when HERALD_TEST_DB=postgres and HERALD_TEST_POSTGRES_URL are set — a fresh
 * PostgreSQL schema that is dropped afterwards. Two instances can share one database
 * (`shareDatabaseWith`) to test multi-instance behaviour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { validateConfig, type LoadedConfig } from '../../src/config/config.loader.js';
import type { HeraldConfig, HeraldConfigInput } from '../../src/config/config.schema.js';
import { createHerald, type HeraldInstance } from '../../src/server.js';
import { AuditService } from '../../src/audit/audit.service.js';
import { freePort } from './ports.js';

export interface TestHerald extends HeraldInstance {
  issuer: string;
  config: HeraldConfig;
  loaded: LoadedConfig;
  dataSource: DataSource;
  audit: AuditService;
  database: { url: string; schema?: string };
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Run against this database instead of a fresh one (second instance on the same data). */
  shareDatabaseWith?: TestHerald;
  /** Force a database kind; default from HERALD_TEST_DB (sqlite unless set to postgres). */
  database?: 'sqlite' | 'postgres';
  configDir?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
}

export function postgresUrl(): string | undefined {
  return process.env.HERALD_TEST_POSTGRES_URL || undefined;
}

export function testDatabaseKind(): 'sqlite' | 'postgres' {
  return process.env.HERALD_TEST_DB === 'postgres' && postgresUrl() ? 'postgres' : 'sqlite';
}

export async function startHerald(build: (issuer: string) => HeraldConfigInput, options: StartOptions = {}): Promise<TestHerald> {
  const port = options.port ?? (await freePort());
  const issuer = `http://127.0.0.1:${port}`;
  let database: { url: string; schema?: string };
  let cleanup: (() => Promise<void>) | undefined;
  if (options.shareDatabaseWith) {
    database = options.shareDatabaseWith.database;
  } else if ((options.database ?? testDatabaseKind()) === 'postgres') {
    const url = postgresUrl();
    if (!url) throw new Error('HERALD_TEST_POSTGRES_URL is not set');
    const schema = `herald_test_${randomBytes(6).toString('hex')}`;
    const withSchema = new URL(url);
    withSchema.searchParams.set('schema', schema);
    database = { url: withSchema.href, schema };
    cleanup = async () => {
      const admin = new DataSource({ type: 'postgres', url: url.split('?')[0] });
      await admin.initialize();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.destroy();
    };
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'herald-test-'));
    database = { url: `sqlite:${join(dir, 'herald.sqlite')}` };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const raw = build(issuer) as Record<string, any>;
  raw.storage = { ...(raw.storage ?? {}), url: database.url };
  raw.audit = { log: false, ...(raw.audit ?? {}) };
  const loaded = validateConfig(raw, { configDir: options.configDir ?? resolve('config'), env: options.env ?? {} });
  const instance = await createHerald(loaded, { port, host: '127.0.0.1', quiet: true, logLevels: ['error'] });
  const dataSource = instance.app.get(DataSource);
  const audit = instance.app.get(AuditService);
  return {
    ...instance,
    issuer,
    config: loaded.config,
    loaded,
    dataSource,
    audit,
    database,
    stop: async () => {
      await audit.flush();
      await instance.close();
      if (!options.shareDatabaseWith) await cleanup?.();
    },
  };
}

/** A minimal valid config, for tests to extend. */
export function baseConfig(issuer: string): HeraldConfigInput {
  return {
    issuer,
    mode: 'development',
    apis: [
      { id: 'trading', identifier: 'https://api.example.com/trading', scopes: ['trades', 'trades:read'], accessTokenTtl: 600 },
      { id: 'billing', identifier: 'https://api.example.com/billing', scopes: ['invoices'], accessTokenTtl: 300, signingAlg: 'RS256' },
    ],
    scopes: {
      trades: { description: 'Trade', claims: [{ name: 'user_id', from: 'account', attribute: 'userId' }, 'given_name', 'roles', 'locations'] },
      'trades:read': { claims: [{ name: 'tier', value: 'gold' }] },
      invoices: { claims: [{ name: 'billing_region', value: 'eu' }] },
    },
    clients: [],
    connectors: [],
  };
}
