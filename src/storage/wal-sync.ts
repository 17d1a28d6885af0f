/**
 * Makes committed transactions durable without blocking the event loop (README "Durability
 * level"). The connection runs with synchronous = NORMAL (db.ts): a COMMIT writes its WAL frames
 * but does not fsync them. `await walSync.durable()` resolves once the -wal file has been
 * fdatasynced by a sync that STARTED after the call, i.e. after the caller's COMMIT returned: every
 * frame of that commit (and of every earlier one) is then on disk, as synchronous = FULL would
 * have made it before COMMIT returned. The fsync runs in libuv's thread pool (node:fs), so the
 * event loop keeps serving requests meanwhile.
 *
 * Coalescing: at most one sync is in flight. Callers arriving while one runs cannot use it (it may
 * have started before their commit): they all share the next one, started when the running one
 * ends. N concurrent commits thus cost at most two fsyncs.
 *
 * A failed sync rejects its callers, and every later call too: after a failed fsync the kernel may
 * have dropped the unwritten pages, and a later fsync that succeeds proves nothing about them (the
 * server must restart; the startup check repairs). Nothing is acknowledged after a failed sync.
 *
 * The file is opened per sync and closed after it (never an fd kept across calls: SQLite deletes
 * the -wal file when the last connection closes and creates it anew). When the file is new (another
 * inode than the last one synced), its directory is fsynced too, as SQLite does for a new WAL in
 * FULL mode. No -wal file: nothing is pending (a checkpoint moved every frame into the database
 * file and SQLite synced that).
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';

/** Flushes the file at `path` to disk (the default: fdatasync of the -wal file, see syncWalFile). */
export type SyncFile = (path: string) => Promise<void>;

export interface WalSyncStats {
  /** Syncs started. */
  readonly syncs: number;
  /** durable() calls answered (or rejected). */
  readonly waits: number;
}

interface Waiters {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function waiters(): Waiters {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A sync nobody awaits (request()) must not surface as an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** fdatasync of `path`; of its directory too when the file is another one than last time. */
export function syncWalFile(): SyncFile {
  let syncedInode: number | undefined;
  return async (path) => {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let inode: number;
    try {
      inode = (await handle.stat()).ino;
      await handle.datasync();
    } finally {
      await handle.close();
    }
    if (inode !== syncedInode) {
      const dir = await open(dirname(path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      syncedInode = inode;
    }
  };
}

export class WalSync {
  private running = false;
  /** Callers of the next sync (arrived while one was running). */
  private next: Waiters | undefined;
  private failure: { error: unknown } | undefined;
  private syncs = 0;
  private waits = 0;

  constructor(
    /** The -wal file (`<database>-wal`); undefined for an in-memory database (nothing to sync). */
    private readonly walPath: string | undefined,
    private readonly syncFile: SyncFile = syncWalFile(),
  ) {}

  /**
   * Resolves once every transaction committed before this call is on disk; rejects when the sync
   * failed (then the caller must not acknowledge its write).
   */
  durable(): Promise<void> {
    this.waits++;
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.walPath === undefined) return Promise.resolve();
    if (this.running) {
      this.next ??= waiters();
      return this.next.promise;
    }
    const w = waiters();
    this.start(w);
    return w.promise;
  }

  /** A sync for background writes (audit batches, lastUsedAt): soon on disk, nobody waits. */
  request(): void {
    void this.durable().catch(() => {});
  }

  /** A sync failed: nothing written from now on can be acknowledged until the server restarts. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  stats(): WalSyncStats {
    return { syncs: this.syncs, waits: this.waits };
  }

  private start(w: Waiters): void {
    this.running = true;
    this.syncs++;
    let outcome: Promise<void>;
    try {
      outcome = this.syncFile(this.walPath as string);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(
      () => this.finish(w, undefined),
      (error: unknown) => this.finish(w, { error }),
    );
  }

  private finish(w: Waiters, failure: { error: unknown } | undefined): void {
    this.running = false;
    if (failure) this.failure ??= failure;
    if (this.failure) w.reject(this.failure.error);
    else w.resolve();
    const next = this.next;
    this.next = undefined;
    if (!next) return;
    if (this.failure) next.reject(this.failure.error);
    else this.start(next);
  }
}

const byConnection = new WeakMap<Database.Database, WalSync>();

/**
 * The WalSync of a connection: the one openDatabase registered, else one for the connection's
 * file (`<name>-wal`; none for an in-memory database).
 */
export function walSyncFor(sqlite: Database.Database): WalSync {
  let sync = byConnection.get(sqlite);
  if (!sync) {
    sync = new WalSync(sqlite.memory ? undefined : `${sqlite.name}-wal`);
    byConnection.set(sqlite, sync);
  }
  return sync;
}

/** Registers `sync` as the connection's (openDatabase; tests inject a held or failing sync). */
export function setWalSync(sqlite: Database.Database, sync: WalSync): void {
  byConnection.set(sqlite, sync);
}
