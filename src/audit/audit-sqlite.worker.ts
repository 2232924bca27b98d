/**
 * Worker-thread writer of audit batches for the embedded SQLite database. On the token path an
 * audit row is written for every token; with better-sqlite3 being synchronous, those inserts —
 * and the WAL checkpoints (with fsync) they trigger — would otherwise stall the event loop that
 * serves requests. The worker has its own connection to the same file (WAL: one writer at a
 * time, readers never blocked).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface WriterData {
  heraldAuditWriter: true;
  path: string;
  columns: string[];
}

const data = workerData as WriterData | undefined;
if (!isMainThread && parentPort && data?.heraldAuditWriter) {
  const port = parentPort;
  const db = new Database(data.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare(`INSERT INTO audit_events (${data.columns.join(', ')}) VALUES (${data.columns.map(() => '?').join(', ')})`);
  const insertAll = db.transaction((rows: unknown[][]) => {
    for (const row of rows) insert.run(...row);
  });
  port.on('message', ({ id, rows }: { id: number; rows: unknown[][] }) => {
    try {
      insertAll(rows);
      port.postMessage({ id });
    } catch (error) {
      port.postMessage({ id, error: String(error) });
    }
  });
}
