/**
 * Group commit: write work of concurrent callers runs in ONE write transaction, so that one WAL
 * fsync makes all of it durable instead of one fsync per caller.
 *
 * `await queue.commit(work)` resolves with `work()`'s value only after the transaction holding it
 * has COMMITted AND its WAL frames are on disk (WalSync.durable(): an fdatasync in libuv's thread
 * pool, started after the COMMIT; the event loop does not wait for the disk): a caller can answer
 * its client as soon as the promise resolves. Work queued while a batch is pending joins it; the
 * batch runs in a setImmediate callback, i.e. after the I/O callbacks of the current loop
 * iteration. The next batch may commit while the previous one's sync runs; its callers share the
 * following sync. Each item runs in a savepoint: an item that throws rolls back its own changes
 * only and rejects its own promise at once; the others commit. If the COMMIT itself fails, or the
 * WAL sync does, every committed item of the batch rejects (nothing of it is known to be durable).
 *
 * Work is synchronous (better-sqlite3) and must not await: it runs inside the transaction.
 */
import type Database from 'better-sqlite3';
import { type WalSync, walSyncFor } from './wal-sync.js';

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export interface CommitQueueStats {
  /** Transactions run. */
  readonly batches: number;
  /** Items committed or rejected in them. */
  readonly items: number;
  /** Largest batch so far. */
  readonly largestBatch: number;
}

export class CommitQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  private batches = 0;
  private items = 0;
  private largestBatch = 0;

  private readonly walSync: Pick<WalSync, 'durable'>;
  /** Largest number of items in one transaction (the rest go to the next one). */
  private readonly maxBatch: number;
  /** Runs its argument in BEGIN IMMEDIATE … COMMIT (made once: making one per batch and item cost more than a small item). */
  private readonly inTransaction: Database.Transaction<(fn: () => void) => void>;
  /** Runs its argument in a SAVEPOINT … RELEASE (ROLLBACK TO on throw) inside the transaction. */
  private readonly inSavepoint: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(
    sqlite: Database.Database,
    options: { walSync?: Pick<WalSync, 'durable'>; maxBatch?: number } = {},
  ) {
    this.walSync = options.walSync ?? walSyncFor(sqlite);
    this.maxBatch = options.maxBatch ?? 256;
    this.inTransaction = sqlite.transaction((fn: () => void) => fn());
    this.inSavepoint = sqlite.transaction((fn: () => unknown) => fn());
  }

  /** Runs `work` in the next group transaction; resolves once that transaction has committed. */
  commit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  stats(): CommitQueueStats {
    return { batches: this.batches, items: this.items, largestBatch: this.largestBatch };
  }

  /** Runs every pending item (up to maxBatch; the rest in the next tick) in one transaction. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // better-sqlite3: the outer function is BEGIN IMMEDIATE … COMMIT; a transaction function
      // called inside it is a SAVEPOINT … RELEASE (ROLLBACK TO on throw).
      this.inTransaction.immediate(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: this.inSavepoint(item.work) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of the batch is durable.
      for (const item of batch) item.reject(error);
      return;
    } finally {
      this.batches++;
      this.items += batch.length;
      this.largestBatch = Math.max(this.largestBatch, batch.length);
    }
    // Committed. A failed item had nothing committed: it is answered now. The others once the
    // WAL holding the commit is on disk (in queue order).
    const committed: { item: Pending; value: unknown }[] = [];
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) committed.push({ item, value: outcome.value });
      else item.reject(outcome.error);
    });
    if (committed.length === 0) return;
    this.walSync.durable().then(
      () => {
        for (const { item, value } of committed) item.resolve(value);
      },
      (error: unknown) => {
        for (const { item } of committed) item.reject(error);
      },
    );
  }
}
