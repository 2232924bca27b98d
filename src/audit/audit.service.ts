/**
 * Writes audit events as JSON log lines and into the audit_events table. Database writes are
 * batched (one transaction per flush) so that the token path does not wait on the disk.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { redact } from '../common/redact.js';
import { AuditEventEntity } from './audit-event.entity.js';
import type { AuditEvent, StoredAuditEvent } from './audit.events.js';

export interface AuditSettings {
  log: boolean;
  database: boolean;
}

export type AuditListener = (event: StoredAuditEvent) => void;

const COLUMNS = ['id', 'time', 'type', 'outcome', 'client_id', 'user_id', 'connector_id', 'reason', 'data'] as const;

/**
 * One multi-row INSERT per flush, straight to the driver: TypeORM's entity insert costs more CPU
 * than the rest of the audit path together (measured on the client-credentials benchmark).
 */
function rowOf(e: AuditEventEntity): unknown[] {
  return [e.id, e.time, e.type, e.outcome, e.clientId, e.userId, e.connectorId, e.reason, e.data === null ? null : JSON.stringify(e.data)];
}

/**
 * Embedded SQLite files are written by a worker thread (audit-sqlite.worker.ts) when Herald runs
 * compiled; from TypeScript sources (tests) or for in-memory databases, in this thread.
 */
class SqliteAuditWriter {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(private readonly dataSource: DataSource) {
    const path = (dataSource.options as { database?: string }).database;
    const workerUrl = new URL('./audit-sqlite.worker.js', import.meta.url);
    if (!path || path === ':memory:' || !import.meta.url.endsWith('.js') || !existsSync(fileURLToPath(workerUrl))) return;
    this.worker = new Worker(workerUrl, { workerData: { heraldAuditWriter: true, path, columns: [...COLUMNS] } });
    this.worker.unref();
    this.worker.on('message', ({ id, error }: { id: number; error?: string }) => {
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      if (error) waiter?.reject(new Error(error));
      else waiter?.resolve();
    });
    const failAll = (error: Error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
      this.worker = undefined; // later batches are written in this thread
    };
    this.worker.on('error', failAll);
    this.worker.on('exit', () => failAll(new Error('the audit writer exited')));
  }

  write(batch: AuditEventEntity[]): Promise<void> {
    const rows = batch.map(rowOf);
    if (this.worker) {
      const id = ++this.seq;
      const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
      this.worker.postMessage({ id, rows });
      return done;
    }
    const sqlite = sqliteHandle(this.dataSource)!;
    const insert = sqlite.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    sqlite.transaction((all: unknown[][]) => {
      for (const row of all) insert.run(...row);
    })(rows);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}

async function insertBatch(dataSource: DataSource, batch: AuditEventEntity[]): Promise<void> {
  const postgres = dataSource.options.type === 'postgres';
  const schema = (dataSource.options as { schema?: string }).schema;
  const table = postgres && schema ? `"${schema.replace(/"/g, '')}"."audit_events"` : 'audit_events';
  const params: unknown[] = [];
  const rows = batch.map((event) => {
    const values = [event.id, event.time, event.type, event.outcome, event.clientId, event.userId, event.connectorId, event.reason, event.data === null ? null : JSON.stringify(event.data)];
    const placeholders = values.map((value) => {
      params.push(value);
      return postgres ? `$${params.length}` : '?';
    });
    return `(${placeholders.join(', ')})`;
  });
  await dataSource.query(`INSERT INTO ${table} (${COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`, params);
}

interface SqliteStatement {
  run(...values: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  transaction<T extends (...args: any[]) => unknown>(fn: T): T;
}

/** The better-sqlite3 connection under TypeORM, when the database is the embedded SQLite. */
function sqliteHandle(dataSource: DataSource): SqliteDatabase | undefined {
  if (dataSource.options.type !== 'better-sqlite3') return undefined;
  return (dataSource.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection;
}

const FLUSH_INTERVAL_MS = 50;
const MAX_BATCH = 500;

export class AuditService {
  private buffer: AuditEventEntity[] = [];
  /** JSON log lines, written together at each flush: one write per batch, not per event. */
  private lines: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<AuditListener>();

  private sqliteWriter: SqliteAuditWriter | undefined;

  constructor(
    private readonly dataSource: DataSource | null,
    private readonly settings: AuditSettings,
    private readonly writeLine: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  private async store(batch: AuditEventEntity[]): Promise<void> {
    const dataSource = this.dataSource!;
    if (sqliteHandle(dataSource)) {
      this.sqliteWriter ??= new SqliteAuditWriter(dataSource);
      return this.sqliteWriter.write(batch);
    }
    return insertBatch(dataSource, batch);
  }

  /** Stores what is buffered and stops the writer thread (shutdown). */
  async close(): Promise<void> {
    await this.flush();
    await this.sqliteWriter?.close();
  }

  emit(event: AuditEvent): StoredAuditEvent {
    const stored: StoredAuditEvent = {
      id: randomUUID(),
      time: Date.now(),
      type: event.type,
      outcome: event.outcome ?? (/(failed|refused|rejected|denied)$/.test(event.type) ? 'failure' : 'success'),
      clientId: event.clientId ?? null,
      userId: event.userId ?? null,
      connectorId: event.connectorId ?? null,
      reason: event.reason ? String(event.reason).slice(0, 255) : null,
      data: event.data ? (redact(event.data) as Record<string, unknown>) : null,
    };
    if (this.settings.log) {
      this.lines.push(JSON.stringify({ level: stored.outcome === 'failure' ? 'warn' : 'info', audit: true, ...stored, time: new Date(stored.time).toISOString() }));
    }
    if (this.settings.database && this.dataSource) this.buffer.push(stored as AuditEventEntity);
    if (this.buffer.length >= MAX_BATCH || this.lines.length >= MAX_BATCH) void this.flush();
    else if (this.buffer.length || this.lines.length) this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
    for (const listener of this.listeners) listener(stored);
    return stored;
  }

  /** Tests and shutdown wait for every event emitted so far to be stored. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.buffer;
    this.buffer = [];
    if (this.lines.length) {
      const lines = this.lines;
      this.lines = [];
      this.writeLine(lines.join('\n'));
    }
    this.flushing = this.flushing.then(async () => {
      if (!batch.length || !this.dataSource?.isInitialized) return;
      try {
        await this.store(batch);
      } catch (error) {
        // Losing the trail silently would be worse than a loud log line.
        this.writeLine(JSON.stringify({ level: 'error', msg: 'audit events could not be stored', count: batch.length, error: String(error) }));
      }
    });
    return this.flushing;
  }

  onEvent(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async find(filter: { type?: string; userId?: string; clientId?: string } = {}): Promise<StoredAuditEvent[]> {
    await this.flush();
    if (!this.dataSource) return [];
    const rows = await this.dataSource.getRepository(AuditEventEntity).find({ where: filter, order: { time: 'ASC' } });
    return rows as StoredAuditEvent[];
  }
}
