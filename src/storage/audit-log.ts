/**
 * The audit trail (table audit_events): who uploaded, read the header of, rendered, downloaded or
 * deleted which file, when, with which token, in which request.
 *
 * Writes are batched: an event per request written on its own would add a transaction (and a WAL
 * sync) to every read. `record()` only appends
 * to memory; the events are written in ONE transaction when FLUSH_INTERVAL_MS has passed since
 * the first pending one, when MAX_PENDING are pending, on `flush()` (list() flushes first: an
 * admin sees every event recorded so far) and on `close()`. A killed process loses at most the
 * events of the last interval. A failing write is logged and retried with the next flush (up to
 * MAX_RETAINED events are kept; beyond that the oldest are dropped, and that is logged too).
 *
 * Listing is newest first, keyset-paged by (at, id) with catalog-query.ts's opaque cursors.
 */
import { and, count, eq, gte, lt, type SQL } from 'drizzle-orm';
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
}

export const FLUSH_INTERVAL_MS = 250;
/**
 * Each write is one transaction on the event loop (its WAL sync runs in the thread pool): 2000
 * rather than a few hundred, so that under load (tens of thousands of audited requests a second)
 * the commits stay a few per second. The time bound a crash can lose (FLUSH_INTERVAL_MS) does not
 * depend on it.
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

/** Events per multi-row INSERT of a flush (the rest one by one): a statement run per 32 events, not per event. */
export const EVENTS_PER_INSERT = 32;
const INSERT_EVENTS = `${INSERT_EVENT}${', (?, ?, ?, ?, ?, ?, ?)'.repeat(EVENTS_PER_INSERT - 1)}`;
const PARAMS_PER_EVENT = 7;

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
  private insertManyStatement: ReturnType<Db['$client']['prepare']> | undefined;
  /** The parameters of one multi-row INSERT, refilled for each (no array per run). */
  private readonly manyParams: unknown[] = new Array(EVENTS_PER_INSERT * PARAMS_PER_EVENT);

  constructor(
    private readonly db: Db,
    private readonly options: AuditLogOptions,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.maxPending = options.maxPending ?? MAX_PENDING;
    this.maxRetained = Math.max(this.maxPending, options.maxRetained ?? MAX_RETAINED);
    const now = options.now;
    this.now = now ? () => now().getTime() : Date.now;
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
    if (this.pending.length >= this.maxPending) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushIntervalMs).unref();
  }

  /** A failed batch goes back in front of the pending events (at most maxRetained kept), retried later. */
  private requeue(batch: PendingEvent[]): void {
    this.pending = batch.concat(this.pending);
    const excess = this.pending.length - this.maxRetained;
    if (excess > 0) {
      this.pending.splice(0, excess);
      this.options.logError(new Error(`audit log: dropped the ${excess} oldest unwritten event(s)`));
    }
    if (!this.closed) this.timer ??= setTimeout(() => this.flush(), this.flushIntervalMs).unref();
  }

  /** A recorder for one request: repeated (action, file) pairs are recorded once. */
  forRequest(actor: AuditActor, requestId: string | null | undefined): RequestAudit {
    return new RequestRecorder(this, actor, requestId ?? null);
  }

  /** Events recorded but not yet written. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes every pending event in one transaction, now; never throws (failures go to logError and are retried). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      // Prepared statements on the driver: EVENTS_PER_INSERT events per run while that many are
      // left, then one per run (the query builder, and a statement prepared for each batch size,
      // cost more than the events' requests).
      const insert = (this.insertStatement ??= this.db.$client.prepare(INSERT_EVENT));
      const insertMany = (this.insertManyStatement ??= this.db.$client.prepare(INSERT_EVENTS));
      const params = this.manyParams;
      this.db.$client.transaction(() => {
        let i = 0;
        for (; i + EVENTS_PER_INSERT <= batch.length; i += EVENTS_PER_INSERT) {
          let p = 0;
          for (let j = i; j < i + EVENTS_PER_INSERT; j++) {
            const e = batch[j]!;
            for (let k = 0; k < PARAMS_PER_EVENT; k++) params[p++] = e[k];
          }
          insertMany.run(params);
        }
        for (; i < batch.length; i++) insert.run(batch[i]);
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
