/**
 * Group commit: write work of concurrent callers runs in ONE write transaction, so that one WAL
 * fsync (synchronous = FULL) makes all of it durable instead of one fsync per caller.
 *
 * `await queue.commit(work)` resolves with `work()`'s value only after the transaction holding it
 * has COMMITted (the WAL is fsynced by then): a caller can answer its client as soon as the promise
 * resolves. Work queued while a batch is pending joins it; the batch runs in a setImmediate
 * callback, i.e. after the I/O callbacks of the current loop iteration (uploads whose blobs became
 * durable during a previous commit's fsync all land in the next batch). Each item runs in a
 * savepoint: an item that throws rolls back its own changes only and rejects its own promise; the
 * others commit. If the COMMIT itself fails, every item of the batch rejects (nothing of it is
 * durable).
 *
 * Work is synchronous (better-sqlite3) and must not await: it runs inside the transaction.
 */
import type Database from 'better-sqlite3';

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

  constructor(
    private readonly sqlite: Database.Database,
    /** Largest number of items in one transaction (the rest go to the next one). */
    private readonly maxBatch = 256,
  ) {}

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
      this.sqlite
        .transaction(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: this.sqlite.transaction(item.work)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // BEGIN or COMMIT failed: nothing of the batch is durable.
      for (const item of batch) item.reject(error);
      return;
    } finally {
      this.batches++;
      this.items += batch.length;
      this.largestBatch = Math.max(this.largestBatch, batch.length);
    }
    // Committed: answer the callers (in queue order).
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
