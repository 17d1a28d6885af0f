/**
 * The audit trail (table audit_events): who uploaded, read the header of, rendered, downloaded or
 * deleted which file, when, with which token, in which request.
 *
 * Writes are batched: the database commits with synchronous=FULL (one fsync per commit), so an
 * event per request written on its own would add an fsync to every read. `record()` only appends
 * to memory; the events are written in ONE transaction when FLUSH_INTERVAL_MS has passed since
 * the first pending one, when MAX_PENDING are pending, on `flush()` (list() flushes first: an
 * admin sees every event recorded so far) and on `close()`. A killed process loses at most the
 * events of the last interval. A failing write is logged and retried with the next flush (up to
 * MAX_RETAINED events are kept; beyond that the oldest are dropped, and that is logged too).
 *
 * Listing is newest first, keyset-paged by (at, id) with catalog-query.ts's opaque cursors.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { and, count, eq, gte, lt, type SQL } from 'drizzle-orm';
import { workerEntry } from '../workers/timed-worker-pool.js';
import type { AuditWriterBatch, AuditWriterData, AuditWriterDone } from './audit-writer.js';
import { type CatalogPage, keysetPage, type Ordering, type PageArgs } from './catalog-query.js';
import type { Db } from './db.js';
import { type AuditEventRow, auditEvents } from './schema.js';
import { walSyncFor } from './wal-sync.js';

export const AUDIT_ACTIONS = ['UPLOAD', 'READ', 'RENDER', 'DOWNLOAD', 'DELETE'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: the request's principal (src/auth/principal.ts has these fields). */
export interface AuditActor {
  readonly userId: number;
  readonly userName: string;
  /** The API token's public id; null in local mode. */
  readonly tokenId: string | null;
}

export interface AuditEventInput extends AuditActor {
  readonly action: AuditAction;
  /** dicom_files.id (the local id, not the GraphQL global id). */
  readonly fileId: string;
  /** The request's id (x-request-id). */
  readonly requestId?: string | null;
}

export interface AuditFilter {
  /** Exact user name as recorded. */
  userName?: string | null;
  /** dicom_files.id. */
  fileId?: string | null;
  action?: AuditAction | null;
  /** Half-open: since ≤ at < until. */
  since?: Date | null;
  until?: Date | null;
}

export interface AuditLogOptions {
  /** Where failed writes are reported (the app's logError). */
  readonly logError: (err: unknown) => void;
  /** Longest time an event waits in memory (default 250 ms). */
  readonly flushIntervalMs?: number;
  /** Pending events that trigger a write at once (default MAX_PENDING). */
  readonly maxPending?: number;
  /** Events kept while writes fail (default MAX_RETAINED, at least maxPending); the oldest beyond are dropped. */
  readonly maxRetained?: number;
  /** The clock (tests). */
  readonly now?: () => Date;
  /**
   * Who writes the batches: 'inline' (default) on the event loop, on the log's connection;
   * 'thread': a writer thread with a connection of its own (audit-writer.ts), so the inserts and
   * each commit's fsync do not stall requests. flush(), list() and close() are synchronous and
   * complete in both (they wait for a batch being written). A database without a file
   * (`:memory:`) is always written inline.
   */
  readonly writer?: 'inline' | 'thread';
}

export const FLUSH_INTERVAL_MS = 250;
/**
 * Each write is one transaction, so one fsync (synchronous=FULL) and, now and then, a WAL
 * checkpoint, all on the event loop: 2000 rather than a few hundred, so that under load (tens of
 * thousands of audited requests a second) the commits stay a few per second. The time bound a
 * crash can lose (FLUSH_INTERVAL_MS) does not depend on it.
 */
export const MAX_PENDING = 2000;
/** Unwritten events kept while writes fail. */
export const MAX_RETAINED = 25_000;

/**
 * One event, prepared once per log; a flush runs it per pending event inside one transaction.
 * Plain SQL on the driver: this runs for every audited request, and the query builder's
 * per-run parameter mapping cost more than the insert itself.
 */
export const INSERT_EVENT =
  'INSERT INTO audit_events (at, user_ref, user_name, token_id, action, file_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)';

/** Newest first: (at, id) descending; id makes every position unique. */
export const AUDIT_ORDERING: Ordering = {
  name: 'AuditEvent.at',
  parts: [{ key: 'at', column: auditEvents.at, kind: 'time' }],
  nullable: false,
  id: { key: 'id', column: auditEvents.id, kind: 'int' },
};

/** One request's view of the log: each (action, file) is recorded once per request. */
export interface RequestAudit {
  record(action: AuditAction, fileId: string): void;
}

/**
 * A pending event as the INSERT's parameters, in column order: at (unix ms), user_ref, user_name,
 * token_id, action, file_id, request_id. A small array per event, not a row object and a Date.
 */
type PendingEvent = [at: number, userRef: number, userName: string, tokenId: string | null, action: AuditAction, fileId: string, requestId: string | null];

/**
 * One request's recorder: the first (action, file) is kept in two fields, a Set only once a
 * request records a second distinct pair (most record one: a READ, a RENDER, a DOWNLOAD).
 */
class RequestRecorder implements RequestAudit {
  private firstAction: AuditAction | undefined;
  private firstFileId = '';
  private seen: Set<string> | undefined;

  constructor(
    private readonly log: AuditLog,
    private readonly actor: AuditActor,
    private readonly requestId: string | null,
  ) {}

  record(action: AuditAction, fileId: string): void {
    if (this.firstAction === undefined) {
      this.firstAction = action;
      this.firstFileId = fileId;
    } else {
      if (action === this.firstAction && fileId === this.firstFileId) return;
      const key = `${action}\u0000${fileId}`;
      this.seen ??= new Set();
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    this.log.append(this.actor.userId, this.actor.userName, this.actor.tokenId, action, fileId, this.requestId);
  }
}

/**
 * From sources (tsx, vitest) the thread's entry is TypeScript: a one-line script imports it with
 * tsx's tsImport (a thread's main script does not go through an `--import`ed loader).
 */
function tsxImportScript(filename: string): string {
  const api = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const file = JSON.stringify(pathToFileURL(filename).href);
  return `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${file}, ${file}))`;
}

export class AuditLog {
  private pending: PendingEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly maxRetained: number;
  /** Unix ms. */
  private readonly now: () => number;
  private insertStatement: ReturnType<Db['$client']['prepare']> | undefined;
  /** Writer thread mode: the database file (undefined: inline), the thread (started on the first batch), the batch it is writing. */
  private threadPath: string | undefined;
  private thread: { readonly worker: Worker; readonly flags: Int32Array } | undefined;
  private inFlight: { readonly seq: number; readonly batch: PendingEvent[]; readonly flags: Int32Array } | undefined;
  private seq = 0;

  constructor(
    private readonly db: Db,
    private readonly options: AuditLogOptions,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.maxPending = options.maxPending ?? MAX_PENDING;
    this.maxRetained = Math.max(this.maxPending, options.maxRetained ?? MAX_RETAINED);
    const now = options.now;
    this.now = now ? () => now().getTime() : Date.now;
    const file = db.$client.name;
    this.threadPath = options.writer === 'thread' && file && file !== ':memory:' && !db.$client.memory ? file : undefined;
  }

  /** Appends one event (timestamped now); written within flushIntervalMs. */
  record(event: AuditEventInput): void {
    this.append(event.userId, event.userName, event.tokenId, event.action, event.fileId, event.requestId ?? null);
  }

  /** record() with the fields as arguments (the per-request recorders call this). */
  append(userId: number, userName: string, tokenId: string | null, action: AuditAction, fileId: string, requestId: string | null): void {
    this.pending.push([this.now(), userId, userName, tokenId ?? null, action, fileId, requestId]);
    if (this.closed) {
      // After close (a request finishing during shutdown): written now, nothing is left behind.
      this.flush();
      return;
    }
    if (this.pending.length >= this.maxPending) this.write();
    else this.timer ??= setTimeout(() => this.write(), this.flushIntervalMs).unref();
  }

  /** A due batch (interval passed, or maxPending pending): to the writer thread, else flush(). */
  private write(): void {
    if (this.threadPath === undefined || this.closed) return this.flush();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // One batch at a time; when it is done, the next goes (afterBatch).
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const seq = ++this.seq;
    try {
      const thread = this.writerThread();
      this.inFlight = { seq, batch, flags: thread.flags };
      thread.worker.postMessage({ seq, events: batch } satisfies AuditWriterBatch);
    } catch (err) {
      this.options.logError(new Error(`audit log: could not hand a batch to the writer thread: ${String(err)}`, { cause: err }));
      this.inFlight = undefined;
      this.requeue(batch);
    }
  }

  private writerThread(): { worker: Worker; flags: Int32Array } {
    if (this.thread) return this.thread;
    const state = new SharedArrayBuffer(8);
    const entry = workerEntry(import.meta.url, 'audit-writer');
    const workerData = { path: this.threadPath!, state } satisfies AuditWriterData;
    const worker = entry.execArgv ? new Worker(tsxImportScript(entry.filename), { eval: true, workerData }) : new Worker(entry.filename, { workerData });
    worker.unref(); // never keeps the process alive: close() writes what is left
    const thread = { worker, flags: new Int32Array(state) };
    worker.on('message', ({ seq, error }: AuditWriterDone) => {
      if (error !== undefined) this.options.logError(new Error(`audit log: the writer thread failed to write batch ${seq}: ${error}`));
      this.settle(seq, error);
      // After a failure the retry waits for the interval (requeue), not for the next message.
      if (!this.closed && error === undefined) this.afterBatch();
    });
    worker.on('error', (err) => this.options.logError(new Error(`audit log: writer thread error: ${String(err)}`, { cause: err })));
    worker.on('exit', (code) => {
      if (this.thread !== thread) return; // close() stopped it
      this.thread = undefined;
      // It should never stop by itself: from now on batches are written inline, as without a thread.
      this.threadPath = undefined;
      this.options.logError(new Error(`audit log: the writer thread exited (code ${code}); writing on the event loop from now on`));
      // A batch it had not written goes back to pending (written by the next flush).
      if (this.inFlight && Atomics.load(thread.flags, 0) < this.inFlight.seq) this.settle(this.inFlight.seq, 'the writer thread exited');
    });
    this.thread = thread;
    return thread;
  }

  /** After a batch: the next one if it is due already, else the interval timer. */
  private afterBatch(): void {
    if (this.pending.length >= this.maxPending) this.write();
    else if (this.pending.length > 0) this.timer ??= setTimeout(() => this.write(), this.flushIntervalMs).unref();
  }

  /** The end of batch `seq` (once; the synchronous wait and the thread's message may both report it). */
  private settle(seq: number, error: string | undefined): void {
    if (!this.inFlight || this.inFlight.seq !== seq) return;
    const { batch } = this.inFlight;
    this.inFlight = undefined;
    if (error !== undefined) this.requeue(batch);
  }

  /** Waits (blocking, bounded) for the batch the writer thread is writing. */
  private awaitThread(): void {
    const flight = this.inFlight;
    if (!flight) return;
    const { flags } = flight;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const done = Atomics.load(flags, 0);
      if (done >= flight.seq) break;
      // Gone without writing it (the exit handler requeues it too; settle() runs once).
      if (this.thread?.flags !== flags) return this.settle(flight.seq, 'the writer thread exited');
      const left = deadline - Date.now();
      if (left <= 0) {
        // A hung thread: its batch is written here instead (it could then appear twice, never zero times).
        this.options.logError(new Error(`audit log: the writer thread did not finish batch ${flight.seq} within 30 s`));
        return this.settle(flight.seq, 'timed out');
      }
      Atomics.wait(flags, 0, done, left);
    }
    this.settle(flight.seq, Atomics.load(flags, 1) === flight.seq ? 'failed' : undefined);
  }

  /** A failed batch goes back in front of the pending events (at most maxRetained kept), retried later. */
  private requeue(batch: PendingEvent[]): void {
    this.pending = batch.concat(this.pending);
    const excess = this.pending.length - this.maxRetained;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.options.logError(new Error(`audit log: dropped the ${excess} oldest unwritten event(s)`));
    }
    if (!this.closed) this.timer ??= setTimeout(() => this.write(), this.flushIntervalMs).unref();
  }

  /** A recorder for one request: repeated (action, file) pairs are recorded once. */
  forRequest(actor: AuditActor, requestId: string | null | undefined): RequestAudit {
    return new RequestRecorder(this, actor, requestId ?? null);
  }

  /** Events recorded but not yet written. */
  get pendingCount(): number {
    return this.pending.length + (this.inFlight?.batch.length ?? 0);
  }

  /**
   * Writes every pending event in one transaction, now, on the log's connection (after the batch
   * the writer thread is writing, if any); never throws (failures go to logError and are retried).
   */
  flush(): void {
    this.awaitThread();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      // A prepared one-row INSERT per event: building a multi-row INSERT with the query builder
      // (and preparing it anew for each batch size) cost more than the events' requests.
      const insert = (this.insertStatement ??= this.db.$client.prepare(INSERT_EVENT));
      this.db.$client.transaction(() => {
        for (const e of batch) insert.run(e);
      })();
      walSyncFor(this.db.$client).request(); // on disk soon; nobody waits for it (db.ts: durability)
    } catch (err) {
      this.options.logError(new Error(`audit log: writing ${batch.length} event(s) failed: ${String(err)}`, { cause: err }));
      this.requeue(batch);
    }
  }

  /** Writes what is pending and stops the timer; later records are written at once. */
  close(): void {
    this.closed = true;
    this.flush();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const thread = this.thread;
    this.thread = undefined;
    if (thread) void thread.worker.terminate();
  }

  /** Events matching `filter`, newest first, keyset-paged (InvalidCursorError, InvalidArgumentError). */
  list(filter: AuditFilter, page: PageArgs): CatalogPage<AuditEventRow> {
    this.flush();
    const conditions: SQL[] = [];
    if (filter.userName != null) conditions.push(eq(auditEvents.userName, filter.userName));
    if (filter.fileId != null) conditions.push(eq(auditEvents.fileId, filter.fileId));
    if (filter.action != null) conditions.push(eq(auditEvents.action, filter.action));
    if (filter.since != null) conditions.push(gte(auditEvents.at, filter.since));
    if (filter.until != null) conditions.push(lt(auditEvents.at, filter.until));
    return keysetPage<AuditEventRow>(this.db, auditEvents, conditions, AUDIT_ORDERING, 'DESC', page, () => {
      const [row] = this.db.select({ n: count() }).from(auditEvents).where(and(...conditions)).all();
      return row?.n ?? 0;
    });
  }
}
