/**
 * Builds the TypeORM DataSource from a database URL: `sqlite:<path>` (embedded, better-sqlite3)
 * or `postgres://…`. Schema changes always go through migrations, never `synchronize`.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from './migrations/index.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export function databaseKind(url: string): DatabaseKind {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`unsupported database URL (expected sqlite:<path> or postgres://…): ${redactUrl(url)}`);
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export interface DataSourceSettings {
  url: string;
  /** Directory that relative SQLite paths resolve against. */
  baseDir?: string;
  /** Postgres schema to use (tests run each suite in its own schema). */
  schema?: string;
}

export function buildDataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  const kind = databaseKind(settings.url);
  const common = { entities: ENTITIES, migrations: MIGRATIONS, synchronize: false, migrationsRun: false, logging: false } as const;
  if (kind === 'sqlite') {
    const path = settings.url.slice('sqlite:'.length);
    const database = path === ':memory:' ? ':memory:' : resolve(settings.baseDir ?? process.cwd(), path);
    if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database,
      enableWAL: database !== ':memory:',
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        // WAL + NORMAL: durable across application crashes, a single fsync per checkpoint.
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
      },
    };
  }
  // `?schema=<name>` in the URL selects a PostgreSQL schema (TypeORM's `schema` option).
  const parsed = new URL(settings.url);
  const urlSchema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  const schema = settings.schema ?? urlSchema;
  return {
    ...common,
    type: 'postgres',
    url: parsed.href,
    schema,
    // search_path too, so that raw SQL (health checks, sweeps) sees the same schema.
    extra: { max: 10, connectionTimeoutMillis: 5000, ...(schema ? { options: `-c search_path="${schema.replace(/"/g, '')}",public` } : {}) },
  };
}

export async function openDataSource(settings: DataSourceSettings): Promise<DataSource> {
  const dataSource = new DataSource(buildDataSourceOptions(settings));
  await dataSource.initialize();
  const schema = (dataSource.options as { schema?: string }).schema;
  if (schema && dataSource.options.type === 'postgres') {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"`);
  }
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}
