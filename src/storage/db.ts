/** Opens the embedded SQLite database and applies the committed drizzle migrations. */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { LOCAL_USER_ID, LOCAL_USER_NAME } from './schema.js';

/** The drizzle database; `$client` is the better-sqlite3 connection (transactions with savepoints). */
export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface OpenDatabase {
  readonly db: Db;
  close(): void;
}

/** Same relative path from src/storage and from dist/storage. */
const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');

export function openDatabase(dataDir: string): OpenDatabase {
  mkdirSync(dataDir, { recursive: true });
  const sqlite = new Database(join(dataDir, 'dicomql.sqlite'));
  // WAL: readers never wait for the writer. FULL: every commit fsyncs the WAL, so an acknowledged
  // upload's row survives a power loss as well as a process crash (NORMAL survives only the latter:
  // the last commits could roll back and the startup check would then remove their blobs as
  // orphans). The cost is one WAL fsync per write transaction, next to the blob's two fsyncs.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder });
  // The local-mode user owns files stored before accounts existed (owner_ref defaults to it).
  sqlite
    .prepare('INSERT OR IGNORE INTO users (id, name, is_admin, created_at) VALUES (?, ?, 1, ?)')
    .run(LOCAL_USER_ID, LOCAL_USER_NAME, Date.now());
  return { db, close: () => sqlite.close() };
}
