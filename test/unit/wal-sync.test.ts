/**
 * Durability off the event loop (src/storage/wal-sync.ts, db.ts): the connection runs with
 * synchronous = NORMAL and whoever acknowledges a write awaits a WAL fdatasync that started after
 * its COMMIT. The group commit answers only after that sync; a failed sync rejects its callers
 * (and every later one); concurrent callers share syncs (at most one in flight, N callers ≤ 2
 * syncs); deletes and token changes wait for it too.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileDeletions } from '../../src/graphql/delete-mutations.js';
import { createDicomEvents } from '../../src/graphql/subscriptions.js';
import { ApiTokenRepository } from '../../src/storage/api-tokens.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { CommitQueue } from '../../src/storage/commit-queue.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import type { HeaderCache } from '../../src/storage/header-cache.js';
import type { NewDicomFileRow } from '../../src/storage/schema.js';
import { syncWalFile, WalSync } from '../../src/storage/wal-sync.js';

/** A sync function the test completes by hand: each call waits until released (or failed). */
function heldSync() {
  const calls: { path: string; release: () => void; fail: (err: Error) => void }[] = [];
  const syncFile = (path: string) =>
    new Promise<void>((release, fail) => {
      calls.push({ path, release, fail });
    });
  return { calls, syncFile };
}

/** Lets pending promise callbacks and I/O run. */
const settle = () => new Promise((r) => setTimeout(r, 20));

function tracked<T>(p: Promise<T>) {
  const state = { done: false, failed: undefined as unknown };
  p.then(
    () => {
      state.done = true;
    },
    (err: unknown) => {
      state.failed = err;
    },
  );
  return state;
}

describe('WalSync', () => {
  it('a caller arriving during a sync waits for the next one; callers share syncs (N callers ≤ 2 syncs)', async () => {
    const held = heldSync();
    const wal = new WalSync('/data/db-wal', held.syncFile);
    const first = tracked(wal.durable());
    expect(held.calls).toHaveLength(1);
    expect(held.calls[0]!.path).toBe('/data/db-wal');
    // Ten more while the first runs: it may have started before their commits; none of them uses it.
    const later = Array.from({ length: 10 }, () => tracked(wal.durable()));
    expect(held.calls).toHaveLength(1); // one in flight
    held.calls[0]!.release();
    await settle();
    expect(first.done).toBe(true);
    expect(later.some((s) => s.done)).toBe(false);
    expect(held.calls).toHaveLength(2); // the next one started for all ten
    held.calls[1]!.release();
    await settle();
    expect(later.every((s) => s.done)).toBe(true);
    expect(wal.stats()).toEqual({ syncs: 2, waits: 11 });
    // Nothing running: the next caller starts a sync of its own at once.
    const again = tracked(wal.durable());
    expect(held.calls).toHaveLength(3);
    held.calls[2]!.release();
    await settle();
    expect(again.done).toBe(true);
  });

  it('a failed sync rejects its callers and every later call (nothing is acknowledged after it)', async () => {
    const held = heldSync();
    const wal = new WalSync('/data/db-wal', held.syncFile);
    const a = tracked(wal.durable());
    const b = tracked(wal.durable()); // waits for the next sync
    held.calls[0]!.fail(new Error('EIO'));
    await settle();
    expect(a.failed).toEqual(new Error('EIO'));
    expect(b.failed).toEqual(new Error('EIO'));
    expect(held.calls).toHaveLength(1); // no sync after a failure
    await expect(wal.durable()).rejects.toThrow('EIO');
  });

  it('request() starts a sync nobody awaits, and a failing one raises no unhandled rejection', async () => {
    const held = heldSync();
    const wal = new WalSync('/data/db-wal', held.syncFile);
    wal.request();
    expect(held.calls).toHaveLength(1);
    held.calls[0]!.fail(new Error('EIO'));
    await settle();
    await expect(wal.durable()).rejects.toThrow('EIO');
  });

  it('an in-memory database has nothing to sync', async () => {
    const held = heldSync();
    await new WalSync(undefined, held.syncFile).durable();
    expect(held.calls).toHaveLength(0);
  });

  it('syncWalFile: fdatasyncs an existing file; a missing one (checkpointed and removed) is nothing to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomql-walsync-'));
    try {
      const sqlite = new Database(join(dir, 'x.sqlite'));
      sqlite.pragma('journal_mode = WAL');
      sqlite.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      expect(statSync(join(dir, 'x.sqlite-wal')).size).toBeGreaterThan(0);
      const sync = syncWalFile();
      await sync(join(dir, 'x.sqlite-wal'));
      await sync(join(dir, 'x.sqlite-wal')); // same file: no directory sync needed, still fine
      sqlite.close(); // the last connection checkpoints and removes the WAL
      await sync(join(dir, 'x.sqlite-wal'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('durability of acknowledged writes (synchronous = NORMAL + WAL sync)', () => {
  let dir: string;
  let database: OpenDatabase;
  let held: ReturnType<typeof heldSync>;
  let root: DicomFileRepository;
  let other: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dicomql-durable-'));
    held = heldSync();
    database = openDatabase(dir, { syncFile: held.syncFile });
    // openDatabase requested a sync for its migrations: complete it.
    for (const c of held.calls.splice(0)) c.release();
    root = new DicomFileRepository(database.db);
    other = new Database(join(dir, 'dicomql.sqlite'), { readonly: true });
  });
  afterEach(() => {
    for (const c of held.calls) c.release();
    other.close();
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (n: number): Omit<NewDicomFileRow, 'ownerRef'> => ({
    id: `f${n}`,
    sha256: String(n).padStart(64, '0'),
    filename: 'a.dcm',
    byteSize: 1,
    hasPixelData: false,
    headerEnd: 1,
    patientId: 'P',
    studyInstanceUid: '1',
    seriesInstanceUid: '1.1',
    sopInstanceUid: `1.1.${n}`,
  });
  const visible = (id: string) => other.prepare('SELECT count(*) AS n FROM dicom_files WHERE id = ?').get(id);

  it('the connection commits without fsync (NORMAL) and syncs the WAL of this database', async () => {
    expect(database.db.$client.pragma('synchronous', { simple: true })).toBe(1);
    const upload = root.forOwner(1).insertDurably(row(1));
    await settle();
    expect(held.calls.map((c) => c.path)).toEqual([join(dir, 'dicomql.sqlite-wal')]);
    held.calls[0]!.release();
    await upload;
  });

  it('the group commit answers only after the WAL sync completed', async () => {
    const files = root.forOwner(1);
    const uploads = [1, 2, 3].map((n) => tracked(files.insertDurably(row(n))));
    await settle();
    // Committed (another connection sees the rows) but not yet on disk: nobody is answered.
    expect(visible('f1')).toEqual({ n: 1 });
    expect(held.calls).toHaveLength(1);
    expect(uploads.some((u) => u.done || u.failed)).toBe(false);
    held.calls[0]!.release();
    await settle();
    expect(uploads.every((u) => u.done)).toBe(true);
  });

  it('a failed WAL sync rejects every caller of the group', async () => {
    const files = root.forOwner(1);
    const uploads = [1, 2].map((n) => tracked(files.insertDurably(row(n))));
    await settle();
    held.calls[0]!.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await settle();
    expect(uploads.map((u) => (u.failed as Error | undefined)?.message)).toEqual(['EIO: i/o error, fdatasync', 'EIO: i/o error, fdatasync']);
  });

  it('groups committed while a sync runs share the next one (N commits ≤ 2 syncs)', async () => {
    const files = root.forOwner(1);
    const first = tracked(files.insertDurably(row(1)));
    await settle();
    expect(held.calls).toHaveLength(1);
    // Five more groups commit, one after the other, while that sync is held.
    const more: ReturnType<typeof tracked>[] = [];
    for (let n = 2; n <= 6; n++) {
      more.push(tracked(files.insertDurably(row(n))));
      await settle();
    }
    expect(root.commits.stats().batches).toBe(6);
    expect(held.calls).toHaveLength(1);
    held.calls[0]!.release();
    await settle();
    expect(first.done).toBe(true);
    expect(more.some((u) => u.done)).toBe(false);
    expect(held.calls).toHaveLength(2);
    held.calls[1]!.release();
    await settle();
    expect(more.every((u) => u.done)).toBe(true);
  });

  it('a CommitQueue takes the WalSync of its connection', async () => {
    const queue = new CommitQueue(database.db.$client);
    const done = tracked(queue.commit(() => database.db.$client.prepare("INSERT INTO users (name, created_at) VALUES ('q', 0)").run()));
    await settle();
    expect(done.done).toBe(false);
    held.calls[0]!.release();
    await settle();
    expect(done.done).toBe(true);
  });

  it('a delete removes blobs and answers only after its commit is on disk', async () => {
    const files = root.forOwner(1);
    const stored = files.insertOrGetExisting(row(1)).file;
    const removed: string[] = [];
    const blobs = { removeUnreferenced: (sha: string) => (removed.push(sha), true) } as unknown as BlobStore;
    const deletions = new FileDeletions({ catalog: files.catalog, files: root, blobs, headers: { evict: () => {} } as unknown as HeaderCache, events: createDicomEvents(), evictRenderings: () => {} });
    const summary = deletions.deleteFile(stored.id);
    const state = tracked(summary);
    await settle();
    expect(visible(stored.id)).toEqual({ n: 0 }); // committed
    expect(removed).toEqual([]); // but the blob stays until the delete is durable
    expect(state.done).toBe(false);
    held.calls.at(-1)!.release();
    await settle();
    expect(state.done).toBe(true);
    expect(removed).toEqual([stored.sha256]);
    expect((await summary)?.removedBlobs).toBe(1);
  });

  it('token creation and revocation wait for the WAL sync; a token use only requests one', async () => {
    const tokens = new ApiTokenRepository(database.db);
    const created = tokens.create(1, { label: 'x' });
    const durable = tracked(tokens.durable());
    await settle();
    expect(durable.done).toBe(false);
    held.calls.at(-1)!.release();
    await settle();
    expect(durable.done).toBe(true);
    const before = held.calls.length;
    expect(tokens.authenticate(created.token)).toBeDefined(); // writes lastUsedAt
    expect(held.calls.length).toBe(before + 1); // a sync was requested …
    held.calls.at(-1)!.release(); // … and nobody waited for it
  });
});

describe('background checkpoints (wal-checkpointer.ts)', () => {
  it('the main connection never checkpoints; the worker copies the whole WAL into the database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomql-checkpoint-'));
    const errors: Error[] = [];
    const database = openDatabase(dir, { backgroundCheckpoints: { intervalMs: 600_000, onError: (e) => errors.push(e) } });
    try {
      const sqlite = database.db.$client;
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      sqlite.exec('CREATE TABLE big (x BLOB)');
      const insert = sqlite.prepare('INSERT INTO big VALUES (randomblob(3000))');
      // ~1500 pages in 1500 commits: SQLite's automatic checkpoint would have run after 1000.
      for (let i = 0; i < 1500; i++) insert.run();
      const walPages = () => statSync(join(dir, 'dicomql.sqlite-wal')).size / 4096;
      expect(walPages()).toBeGreaterThan(1500);
      const result = await database.checkpointer!.checkpointNow();
      expect(result).toMatchObject({ ok: true });
      expect(result.log).toBeGreaterThan(1500);
      expect(result.checkpointed).toBe(result.log);
      // The next commit restarts the WAL from its beginning: it does not grow any more.
      const size = walPages();
      for (let i = 0; i < 100; i++) insert.run();
      expect(walPages()).toBe(size);
      expect(sqlite.prepare('SELECT count(*) AS n FROM big').get()).toEqual({ n: 1600 });
      expect(errors).toEqual([]);
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closeGracefully() resolves only once the worker has exited (nothing touches the files afterwards)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomql-checkpoint-'));
    const database = openDatabase(dir, { backgroundCheckpoints: { intervalMs: 600_000, onError: () => {} } });
    try {
      const worker = (database.checkpointer as unknown as { worker: import('node:worker_threads').Worker }).worker;
      let exited = false;
      worker.once('exit', () => (exited = true));
      database.db.$client.exec('CREATE TABLE t (x)');
      await database.closeGracefully();
      expect(exited).toBe(true);
      expect(() => database.db.$client.prepare('SELECT 1')).toThrow(/not open/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
