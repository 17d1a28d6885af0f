/** Opens the embedded SQLite database and applies the committed drizzle migrations. */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { LOCAL_USER_ID, LOCAL_USER_NAME } from './schema.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { type SyncFile, setWalSync, WalSync } from './wal-sync.js';

/** The drizzle database; `$client` is the better-sqlite3 connection (transactions with savepoints). */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface OpenDatabase {
  readonly db: Db;
  /** Makes commits durable off the event loop: `await walSync.durable()` before acknowledging a write (wal-sync.ts). */
  readonly walSync: WalSync;
  /** With `backgroundCheckpoints`: the worker that checkpoints the WAL (wal-checkpointer.ts). */
  readonly checkpointer?: WalCheckpointer;
  /** Closes the connection (the checkpoint worker is told to close its own, without waiting: CLI, tests). */
  close(): void;
  /** The server's close: waits for the checkpoint worker to exit, then closes the connection. */
  closeGracefully(): Promise<void>;
}

/** Same relative path from src/storage and from dist/storage. */
const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');

export interface OpenDatabaseOptions {
  /** How the WAL is flushed (tests hold or fail it); default fdatasync (wal-sync.ts). */
  readonly syncFile?: SyncFile;
  /**
   * Checkpoints in a worker thread instead of inside the COMMIT that crosses 1000 WAL pages (the
   * server; wal-checkpointer.ts). Off: SQLite's automatic checkpoints (CLI, tests).
   */
  readonly backgroundCheckpoints?: { readonly intervalMs?: number; readonly onError?: (err: Error) => void };
}

export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): OpenDatabase {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dicomql.sqlite');
  const sqlite = new Database(file);
  // WAL: readers never wait for the writer.
  //
  // Durability: synchronous = NORMAL, plus an asynchronous fdatasync of the -wal file after each
  // commit that something acknowledges (wal-sync.ts). With FULL, SQLite fsynced the WAL inside
  // COMMIT, on the event loop: ~0.8 ms per upload during which no request was served. Now COMMIT
  // only writes the frames; whoever answers a client for that write (the group commit of uploads,
  // deletes, token creation and revocation) first awaits `walSync.durable()`, which resolves once
  // a fdatasync of the WAL that started after the COMMIT has completed, in libuv's thread pool.
  //
  // Why this equals FULL for acknowledged work: an answer is sent only after the commit's WAL
  // frames (and every earlier commit's) are on disk, as FULL guaranteed before COMMIT returned; a
  // power loss after the answer recovers the row from the WAL. NORMAL keeps the rest of SQLite's
  // ordering: the WAL is synced before every checkpoint and the database file after it, and the
  // WAL header when the WAL is reused. The blob is fsynced before its row commits (unchanged).
  // The server checkpoints in a worker thread (backgroundCheckpoints, wal-checkpointer.ts), so
  // those checkpoint fsyncs do not run inside a COMMIT on the event loop either.
  //
  // What differs: between COMMIT and the end of its sync (a few ms), the committed rows are visible
  // to other requests although not yet on disk. A power loss in that window rolls them back:
  // nobody was told the write succeeded, but another request may have read the row (listed it,
  // fetched its attributes) and a background write (audit batch, lastUsedAt; they only request a
  // sync) may be lost, as before with a crash before their commit. A process crash (SIGKILL) loses
  // nothing committed: the frames are in the OS page cache.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const walSync = new WalSync(`${file}-wal`, options.syncFile);
  setWalSync(sqlite, walSync);
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  // The local-mode user owns files stored before accounts existed (owner_ref defaults to it).
  sqlite
    .prepare('INSERT OR IGNORE INTO users (id, name, is_admin, created_at) VALUES (?, ?, 1, ?)')
    .run(LOCAL_USER_ID, LOCAL_USER_NAME, Date.now());
  walSync.request();
  let checkpointer: WalCheckpointer | undefined;
  if (options.backgroundCheckpoints) {
    sqlite.pragma('wal_autocheckpoint = 0');
    checkpointer = new WalCheckpointer(file, options.backgroundCheckpoints);
  }
  return {
    db,
    walSync,
    ...(checkpointer ? { checkpointer } : {}),
    close: () => {
      void checkpointer?.close();
      sqlite.close();
    },
    closeGracefully: async () => {
      await checkpointer?.close();
      sqlite.close();
    },
  };
}
