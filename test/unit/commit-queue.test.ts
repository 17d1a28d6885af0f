/**
 * Group commit (src/storage/commit-queue.ts, OwnerFileRepository.insertDurably): the rows of
 * concurrent uploads go into one write transaction; each caller is answered only once the
 * transaction holding its row has committed; a failing item does not fail the others, and a
 * failed COMMIT fails every item of its group (none of them is durable).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommitQueue } from '../../src/storage/commit-queue.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import type { NewDicomFileRow } from '../../src/storage/schema.js';

let dir: string;
let database: OpenDatabase;
let root: DicomFileRepository;
/** A second connection to the same file: it sees committed rows only. */
let other: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-commit-queue-'));
  database = openDatabase(dir);
  root = new DicomFileRepository(database.db);
  other = new Database(join(dir, 'dicomql.sqlite'), { readonly: true });
});
afterEach(() => {
  expect(root.catalog.checkConsistency()).toEqual([]);
  other.close();
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

function row(n: number, o: Partial<NewDicomFileRow> = {}): Omit<NewDicomFileRow, 'ownerRef'> {
  return {
    id: `file-${String(n).padStart(4, '0')}`,
    sha256: `${n}`.padStart(64, 'a'),
    filename: `f${n}.dcm`,
    byteSize: 100,
    uploadedAt: new Date(Date.UTC(2024, 0, 1) + n),
    hasPixelData: false,
    headerEnd: 10,
    patientId: 'P1',
    patientName: 'Doe^John',
    studyInstanceUid: '1.1',
    seriesInstanceUid: `1.1.${n % 3}`,
    sopInstanceUid: `1.1.1.${n}`,
    modality: 'CT',
    ...o,
  };
}

const committedIds = () => (other.prepare('SELECT id FROM dicom_files ORDER BY id').all() as { id: string }[]).map((r) => r.id);

describe('group commit of uploads', () => {
  it('commits concurrent uploads in one transaction, every row placed in the catalog', async () => {
    const files = root.forOwner(1);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => files.insertDurably(row(i + 1))));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(root.commits.stats()).toEqual({ batches: 1, items: 20, largestBatch: 20 });
    expect(committedIds()).toEqual(results.map((r) => r.file.id).sort());
    const patient = files.catalog.listPatients({}, { field: 'PATIENT_NAME', direction: 'ASC' }, {}).edges;
    expect(patient).toHaveLength(1);
    expect(patient[0]!.node.instanceCount).toBe(20);
    const series = other.prepare('SELECT series_instance_uid AS uid, instance_count AS n FROM series ORDER BY uid').all();
    expect(series).toEqual([
      { uid: '1.1.0', n: 6 },
      { uid: '1.1.1', n: 7 },
      { uid: '1.1.2', n: 7 },
    ]);
    // Two owners, same bytes, same group: a row each; the same owner twice: one row, one duplicate.
    database.db.$client.prepare("INSERT INTO users (id, name, is_admin, created_at) VALUES (2, 'second', 0, 0)").run();
    const [a, b, c] = await Promise.all([
      root.forOwner(1).insertDurably(row(100)),
      root.forOwner(1).insertDurably(row(101, { sha256: row(100).sha256 })),
      root.forOwner(2).insertDurably(row(102, { sha256: row(100).sha256 })),
    ]);
    expect(a!.duplicate).toBe(false);
    expect(b).toEqual({ file: a!.file, duplicate: true });
    expect(c!.duplicate).toBe(false);
    expect(c!.file.ownerRef).toBe(2);
    expect(committedIds()).toEqual(expect.arrayContaining([a!.file.id, c!.file.id]));
    expect(root.commits.stats().batches).toBe(2);
  });

  it('a failing item rolls back alone: the others of its group commit', async () => {
    const files = root.forOwner(1);
    await files.insertDurably(row(1));
    const outcomes = await Promise.allSettled([
      files.insertDurably(row(2)),
      // Same primary key as row 1 with other bytes: the insert fails after its placement ran.
      files.insertDurably(row(3, { id: row(1).id, seriesInstanceUid: '9.9', patientId: 'P-NEW' })),
      files.insertDurably(row(4)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(root.commits.stats()).toMatchObject({ batches: 2, largestBatch: 3 });
    expect(committedIds()).toEqual([row(1).id, row(2).id, row(4).id]);
    // Its placement (a new patient, series, counters) was rolled back with it (afterEach: consistency).
    expect(other.prepare("SELECT count(*) AS n FROM patients WHERE patient_id = 'P-NEW'").get()).toEqual({ n: 0 });
    expect(other.prepare("SELECT count(*) AS n FROM series WHERE series_instance_uid = '9.9'").get()).toEqual({ n: 0 });
  });

  it('answers only after COMMIT: the row is visible to another connection when the promise resolves', async () => {
    const files = root.forOwner(1);
    const seen: { inTransaction: boolean; visible: boolean }[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        files.insertDurably(row(n)).then((r) => {
          seen.push({ inTransaction: database.db.$client.inTransaction, visible: committedIds().includes(r.file.id) });
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 3 }, () => ({ inTransaction: false, visible: true })));
  });

  it('a failed COMMIT rejects every item of the group and keeps none of them', async () => {
    const sqlite = database.db.$client;
    sqlite.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (id INTEGER PRIMARY KEY, name TEXT, parent_ref INTEGER REFERENCES parent(id))');
    sqlite.exec('INSERT INTO parent (id) VALUES (1)');
    const queue = new CommitQueue(sqlite);
    const insert = sqlite.prepare('INSERT INTO child (name, parent_ref) VALUES (?, ?)');
    const outcomes = await Promise.allSettled([
      queue.commit(() => insert.run('GOOD', 1)),
      // Deferred foreign keys are checked at COMMIT: an orphan row makes the COMMIT itself fail.
      queue.commit(() => {
        sqlite.pragma('defer_foreign_keys = ON');
        insert.run('ORPHAN', 999);
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(sqlite.inTransaction).toBe(false);
    expect(other.prepare('SELECT count(*) AS n FROM child').get()).toEqual({ n: 0 });
    // The queue goes on working.
    await expect(queue.commit(() => insert.run('LATER', 1))).resolves.toMatchObject({ changes: 1 });
    expect(other.prepare('SELECT name FROM child').all()).toEqual([{ name: 'LATER' }]);
  });

  it('work queued while a group runs goes into the next group', async () => {
    const sqlite = database.db.$client;
    // A WAL sync that is done at once: the first group is answered before the next one runs.
    const queue = new CommitQueue(sqlite, { walSync: { durable: () => Promise.resolve() } });
    const order: string[] = [];
    let later: Promise<unknown> | undefined;
    await queue.commit(() => {
      order.push('first');
      later = queue.commit(() => order.push('second'));
    });
    expect(order).toEqual(['first']);
    await later;
    expect(order).toEqual(['first', 'second']);
    expect(queue.stats()).toEqual({ batches: 2, items: 2, largestBatch: 1 });
  });
});
