/**
 * The audit log's writer thread (AuditLog with `writer: 'thread'`): writes batches of pending
 * events on a connection of its own, so that the inserts (one row and three index entries per
 * event) and each batch's commit (an fsync, with synchronous=FULL) stay off the event loop.
 *
 * Protocol: the log posts `{ seq, events }` (one batch at a time); the thread writes it in one
 * transaction, then stores `seq` in the shared state (slot 0: last batch done; slot 1: last batch
 * that failed) and notifies, and posts `{ seq, error? }`. The log can thus wait for a batch
 * synchronously (Atomics.wait: flush(), list(), close()) or hear of it asynchronously.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { INSERT_EVENT } from './audit-log.js';

export interface AuditWriterData {
  /** The database file (the log's connection's). */
  readonly path: string;
  /** Int32Array(2) over it: [last batch done, last batch failed]. */
  readonly state: SharedArrayBuffer;
}

export interface AuditWriterBatch {
  readonly seq: number;
  /** INSERT parameters per event (audit-log.ts PendingEvent). */
  readonly events: readonly (readonly unknown[])[];
}

export interface AuditWriterDone {
  readonly seq: number;
  readonly error?: string;
}

if (parentPort) {
  const port = parentPort;
  const { path, state } = workerData as AuditWriterData;
  const flags = new Int32Array(state);
  // The same durability as the main connection (db.ts): WAL (a property of the file), FULL, and
  // waiting for the main connection's write transactions rather than failing.
  const db = new Database(path);
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  let insert: Database.Statement | undefined;
  port.on('message', ({ seq, events }: AuditWriterBatch) => {
    let error: string | undefined;
    try {
      insert ??= db.prepare(INSERT_EVENT);
      const statement = insert;
      db.transaction(() => {
        for (const e of events) statement.run(e);
      })();
    } catch (err) {
      error = String(err);
      Atomics.store(flags, 1, seq);
    }
    Atomics.store(flags, 0, seq);
    Atomics.notify(flags, 0);
    port.postMessage({ seq, ...(error !== undefined ? { error } : {}) } satisfies AuditWriterDone);
  });
}
