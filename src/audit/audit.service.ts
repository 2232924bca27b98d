/**
 * Writes audit events as JSON log lines and into the audit_events table. Database writes are
 * batched (one transaction per flush) so that the token path does not wait on the disk.
 */
import { randomUUID } from 'node:crypto';
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

const FLUSH_INTERVAL_MS = 50;
const MAX_BATCH = 500;

export class AuditService {
  private buffer: AuditEventEntity[] = [];
  /** JSON log lines, written together at each flush: one write per batch, not per event. */
  private lines: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<AuditListener>();

  constructor(
    private readonly dataSource: DataSource | null,
    private readonly settings: AuditSettings,
    private readonly writeLine: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

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
        await insertBatch(this.dataSource, batch);
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
