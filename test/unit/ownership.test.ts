/**
 * Ownership at the storage level: every file is its uploader's, each owner has a catalog of their
 * own, and a repository scoped to one owner treats another owner's rows as missing — by id, by
 * filter, by UID, by a cursor taken from the other owner's listing, in counts and in deletes.
 * Dedupe is per owner (two rows, one shared blob); a blob goes only with the last row naming it.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileDeletions } from '../../src/graphql/delete-mutations.js';
import { createDicomEvents, type DeletedDicomFile } from '../../src/graphql/subscriptions.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository, type OwnerFileRepository } from '../../src/storage/dicom-files.js';
import { DicomIngest } from '../../src/storage/dicom-ingest.js';
import type { HeaderCache } from '../../src/storage/header-cache.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { repairDataDir } from '../../src/storage/repair.js';
import type { DicomFileRow } from '../../src/storage/schema.js';
import { type CatalogFileOptions, catalogFile } from '../helpers/catalog-files.js';
import { inlineParser } from '../helpers/inline-parser.js';


const A = 2;
const B = 3;
const byDate = { field: 'STUDY_DATE', direction: 'DESC' } as const;
const byUpload = { field: 'UPLOADED_AT', direction: 'DESC' } as const;
const byName = { field: 'PATIENT_NAME', direction: 'ASC' } as const;
const bySeriesUpload = { field: 'LAST_UPLOADED_AT', direction: 'DESC' } as const;

let dir: string;
let database: OpenDatabase;
let blobs: LocalBlobStore;
let root: DicomFileRepository;
let ingest: DicomIngest;
let a: OwnerFileRepository;
let b: OwnerFileRepository;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-owners-'));
  database = openDatabase(dir);
  database.db.$client.prepare("INSERT INTO users (id, name, created_at) VALUES (?, 'alice', 0), (?, 'bob', 0)").run(A, B);
  blobs = new LocalBlobStore(dir);
  root = new DicomFileRepository(database.db);
  ingest = new DicomIngest(blobs, root, 10_000_000, inlineParser);
  a = root.forOwner(A);
  b = root.forOwner(B);
});
afterEach(() => {
  expect(root.catalog.checkConsistency()).toEqual([]);
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const store = (owner: number, bytes: Buffer, name = 'x.dcm') => ingest.ingest(owner, () => Readable.from([bytes]), name);

function blobFiles(): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else found.push(e.name);
    }
  };
  walk(join(dir, 'blobs'));
  return found;
}

const study = (o: CatalogFileOptions = {}) =>
  catalogFile({
    patientId: 'P-1',
    patientName: 'Doe^Jane',
    studyUid: '1.5',
    studyDate: '20240102',
    accessionNumber: 'ACC-1',
    seriesUid: '1.5.1',
    seriesNumber: 1,
    modality: 'MR',
    sopUid: '1.5.1.1',
    instanceNumber: 1,
    ...o,
  });

/** A's catalog: patient P-1 with one study, one series, `n` instances. */
async function aliceStudy(n = 3): Promise<DicomFileRow[]> {
  const rows: DicomFileRow[] = [];
  for (let i = 1; i <= n; i++) rows.push((await store(A, study({ sopUid: `1.5.1.${i}`, instanceNumber: i }))).file);
  return rows;
}

describe('per-owner dedupe, shared blob', () => {
  it('stores the same bytes of two owners as two rows over one blob; the same owner again is a duplicate', async () => {
    const bytes = study();
    const first = await store(A, bytes);
    const second = await store(B, bytes);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(false);
    expect(second.file.id).not.toBe(first.file.id);
    expect(second.file.sha256).toBe(first.file.sha256);
    expect([first.file.ownerRef, second.file.ownerRef]).toEqual([A, B]);
    expect(blobFiles()).toEqual([first.file.sha256]);
    expect(root.countAll()).toBe(2);

    const again = await store(A, bytes, 'renamed.dcm');
    expect(again).toMatchObject({ duplicate: true, file: { id: first.file.id, filename: 'x.dcm' } });
    expect(a.count()).toBe(1);
    expect(b.count()).toBe(1);
    // Each owner finds their own copy by content.
    expect(a.findBySha256(first.file.sha256)?.id).toBe(first.file.id);
    expect(b.findBySha256(first.file.sha256)?.id).toBe(second.file.id);
    // Two catalog trees: the same patient identity is a patient of each owner.
    expect(second.file.patientRef).not.toBe(first.file.patientRef);
    expect(second.file.studyRef).not.toBe(first.file.studyRef);
    expect(second.file.seriesRef).not.toBe(first.file.seriesRef);
    expect(a.catalog.patient(first.file.patientRef!)).toMatchObject({ ownerRef: A, patientId: 'P-1', instanceCount: 1 });
    expect(b.catalog.patient(second.file.patientRef!)).toMatchObject({ ownerRef: B, patientId: 'P-1', instanceCount: 1 });
  });
});

describe("another owner's rows are missing", () => {
  it('by id, by content, by parent: files, patients, studies, series', async () => {
    const [f1, f2] = await aliceStudy(2);
    const file = f1!;
    expect(b.findById(file.id)).toBeUndefined();
    expect(b.findByIds([file.id, f2!.id])).toEqual([]);
    expect(a.findByIds([file.id, f2!.id]).map((f) => f.id).sort()).toEqual([file.id, f2!.id].sort());
    expect(b.findBySha256(file.sha256)).toBeUndefined();
    expect(b.count()).toBe(0);

    const patient = a.catalog.patient(file.patientRef!)!;
    expect(patient).toBeDefined();
    expect(b.catalog.patient(file.patientRef!)).toBeUndefined();
    expect(b.catalog.study(file.studyRef!)).toBeUndefined();
    expect(b.catalog.series(file.seriesRef!)).toBeUndefined();
    expect(b.catalog.patientOfStudy(file.studyRef!)).toBeUndefined();
    expect(b.catalog.currentFilesOfSeries(file.seriesRef!)).toEqual([]);
    expect(b.catalog.currentFilesOfStudy(file.studyRef!)).toEqual([]);
    expect(a.catalog.currentFilesOfStudy(file.studyRef!)).toHaveLength(2);
    expect(b.catalog.versionsOf(file)).toEqual([]);
    expect(b.catalog.patientNameCount(patient.id)).toBe(0);
    expect(a.catalog.patientNameCount(patient.id)).toBe(1);
    expect(b.catalog.otherPatientNames({ ...patient, patientName: 'someone else' })).toEqual([]);
    expect(a.catalog.otherPatientNames({ ...patient, patientName: 'someone else' })).toEqual(['Doe^Jane']);
  });

  it('in listings by filter and UID, in nested listings and in every totalCount', async () => {
    const [file] = await aliceStudy(3);
    const f = file!;
    const empty = <T>(page: { edges: readonly unknown[]; totalCount(): number; hasNextPage: boolean }) => {
      expect(page.edges).toEqual([]);
      expect(page.totalCount()).toBe(0);
      expect(page.hasNextPage).toBe(false);
      return page as T;
    };
    const filters = [
      {},
      { patientId: 'P-1' },
      { patientName: 'doe*' },
      { patientName: '*JANE' },
      { studyInstanceUid: '1.5' },
      { accessionNumber: 'ACC-1' },
      { studyDate: { from: '20240101', to: '20240131' } },
      { modality: 'MR' },
      { uploadedAt: { from: new Date(0) } },
    ];
    for (const filter of filters) {
      empty(b.catalog.listPatients(filter, byName, {}));
      empty(b.catalog.listStudies(filter, byDate, {}));
      empty(b.catalog.listSeries(filter, bySeriesUpload, {}));
      empty(b.catalog.listFiles(filter, byUpload, {}));
      empty(b.catalog.listFiles({ ...filter, includeAllVersions: true }, byUpload, {}));
      // A sees them: the filters do match.
      expect(a.catalog.listFiles(filter, byUpload, {}).totalCount(), JSON.stringify(filter)).toBe(3);
    }
    for (const filter of [{ seriesInstanceUid: '1.5.1' }, { sopInstanceUid: '1.5.1.1' }, { sopClassUid: '1.2.840.10008.5.1.4.1.1.2' }]) {
      empty(b.catalog.listFiles(filter, byUpload, {}));
      expect(a.catalog.listFiles(filter, byUpload, {}).totalCount()).toBeGreaterThan(0);
    }
    empty(b.catalog.listSeries({ seriesInstanceUid: '1.5.1' }, bySeriesUpload, {}));
    // Nested listings under A's parents (ids known, e.g. guessed).
    empty(b.catalog.listStudies({}, byDate, {}, { patientId: f.patientRef! }));
    empty(b.catalog.listSeries({}, { field: 'SERIES_NUMBER', direction: 'ASC' }, {}, { studyId: f.studyRef! }));
    empty(b.catalog.listFiles({}, { field: 'INSTANCE_NUMBER', direction: 'ASC' }, {}, { seriesId: f.seriesRef! }));
    expect(a.catalog.listFiles({}, { field: 'INSTANCE_NUMBER', direction: 'ASC' }, {}, { seriesId: f.seriesRef! }).totalCount()).toBe(3);
  });

  it('through a cursor taken from the other owner’s listing', async () => {
    await aliceStudy(4);
    await store(B, study({ patientId: 'B-1', studyUid: '2.5', seriesUid: '2.5.1', sopUid: '2.5.1.1' }));
    const aPage = a.catalog.listFiles({}, byUpload, { first: 2 });
    expect(aPage.hasNextPage).toBe(true);
    const cursor = aPage.edges[0]!.cursor;
    for (const args of [{ first: 10, after: cursor }, { last: 10, before: cursor }]) {
      const page = b.catalog.listFiles({}, byUpload, args);
      expect(page.edges.every((e) => e.node.ownerRef === B)).toBe(true);
      expect(page.totalCount()).toBe(1);
    }
    const studyCursor = a.catalog.listStudies({}, byDate, { first: 1 }).edges[0]!.cursor;
    expect(b.catalog.listStudies({}, byDate, { first: 10, after: studyCursor }).edges.map((e) => e.node.ownerRef)).not.toContain(A);
    const patientCursor = a.catalog.listPatients({}, byName, { first: 1 }).edges[0]!.cursor;
    expect(b.catalog.listPatients({}, byName, { last: 10, before: patientCursor }).edges.map((e) => e.node.ownerRef)).not.toContain(A);
  });
});

describe('counts are per owner', () => {
  it('totalCount and the patient/study/series counters count the owner’s files only', async () => {
    const aFiles = await aliceStudy(3);
    // B stores one of the same files (same bytes) and one of its own in the same study UID.
    await store(B, study({ sopUid: '1.5.1.1', instanceNumber: 1 }));
    await store(B, study({ sopUid: '1.5.1.9', instanceNumber: 9 }));
    const bFile = b.catalog.listFiles({}, byUpload, {}).edges[0]!.node;

    expect(a.catalog.patient(aFiles[0]!.patientRef!)).toMatchObject({ studyCount: 1, instanceCount: 3 });
    expect(b.catalog.patient(bFile.patientRef!)).toMatchObject({ studyCount: 1, instanceCount: 2 });
    expect(a.catalog.study(aFiles[0]!.studyRef!)).toMatchObject({ seriesCount: 1, instanceCount: 3 });
    expect(b.catalog.study(bFile.studyRef!)).toMatchObject({ seriesCount: 1, instanceCount: 2 });
    expect(b.catalog.series(bFile.seriesRef!)).toMatchObject({ instanceCount: 2 });
    expect(a.catalog.listFiles({}, byUpload, {}).totalCount()).toBe(3);
    expect(b.catalog.listFiles({}, byUpload, {}).totalCount()).toBe(2);
    expect(b.catalog.listFiles({ studyInstanceUid: '1.5' }, byUpload, {}).totalCount()).toBe(2);
    expect(b.catalog.listFiles({ patientId: 'P-1' }, byUpload, {}).totalCount()).toBe(2);
    expect(a.catalog.listStudies({ studyInstanceUid: '1.5' }, byDate, {}).totalCount()).toBe(1);
    expect(b.catalog.listPatients({}, byName, {}).totalCount()).toBe(1);
    expect(root.forOwner(1).catalog.listFiles({}, byUpload, {}).totalCount()).toBe(0);
  });
});

describe('versions are per owner', () => {
  it('a newer version stored by one owner does not replace another owner’s current version', async () => {
    const v1 = study({ revision: 'first' });
    const v2 = study({ revision: 'second' });
    const a1 = (await store(A, v1)).file;
    const a2 = (await store(A, v2)).file;
    const b1 = (await store(B, v1)).file;
    expect(a.findById(a1.id)?.isCurrent).toBe(false);
    expect(a.findById(a2.id)?.isCurrent).toBe(true);
    expect(b.findById(b1.id)?.isCurrent).toBe(true);
    expect(a.catalog.versionsOf(a1).map((f) => f.id)).toEqual([a2.id, a1.id]);
    expect(b.catalog.versionsOf(b1).map((f) => f.id)).toEqual([b1.id]);
    expect(b.catalog.listFiles({ sopInstanceUid: '1.5.1.1', includeAllVersions: true }, byUpload, {}).edges.map((e) => e.node.id)).toEqual([b1.id]);
  });
});

describe('deletes are per owner; blobs go with the last row', () => {
  function deletions(owner: OwnerFileRepository, published: DeletedDicomFile[]) {
    const events = createDicomEvents();
    const publish = events.publish.bind(events);
    events.publish = ((topic: string, payload: DeletedDicomFile) => {
      published.push(payload);
      (publish as (t: string, p: unknown) => void)(topic, payload);
    }) as typeof events.publish;
    return new FileDeletions({
      catalog: owner.catalog,
      files: root,
      blobs,
      headers: { evict: () => {} } as unknown as HeaderCache,
      events,
      evictRenderings: () => {},
    });
  }

  it('does nothing to another owner’s file, series, study or patient (not found)', async () => {
    const [f] = await aliceStudy(2);
    const published: DeletedDicomFile[] = [];
    const bDeletes = deletions(b, published);
    expect(await bDeletes.deleteFile(f!.id)).toBeUndefined();
    expect(await bDeletes.deleteSeries(f!.seriesRef!)).toBeUndefined();
    expect(await bDeletes.deleteStudy(f!.studyRef!)).toBeUndefined();
    expect(await bDeletes.deletePatient(f!.patientRef!)).toBeUndefined();
    expect(b.catalog.deleteFile(f!.id)).toBeUndefined();
    expect(published).toEqual([]);
    expect(a.count()).toBe(2);
    expect(a.catalog.patient(f!.patientRef!)).toMatchObject({ instanceCount: 2 });
    expect(blobFiles()).toHaveLength(2);
  });

  it('keeps a blob another owner still stores, removes it with the last copy', async () => {
    const bytes = study();
    const mine = (await store(A, bytes)).file;
    const theirs = (await store(B, bytes)).file;
    const published: DeletedDicomFile[] = [];

    const catalogResult = a.catalog.deleteStudy(mine.studyRef!)!;
    expect(catalogResult.unreferencedBlobs).toEqual([]);
    expect(catalogResult.deletedFiles).toEqual([expect.objectContaining({ id: mine.id, ownerRef: A })]);
    expect(existsSync(blobs.blobPath(mine.sha256))).toBe(true);
    expect(b.findById(theirs.id)).toMatchObject({ isCurrent: true });
    expect(b.catalog.study(theirs.studyRef!)).toMatchObject({ instanceCount: 1 });

    const summary = (await deletions(b, published).deleteFile(theirs.id))!;
    expect(summary.removedBlobs).toBe(1);
    expect(existsSync(blobs.blobPath(mine.sha256))).toBe(false);
    expect(published).toEqual([expect.objectContaining({ id: theirs.id, ownerRef: B })]);
    expect(root.countAll()).toBe(0);
  });

  it('a delete through FileDeletions keeps the blob while another owner’s row names it', async () => {
    const bytes = study();
    const mine = (await store(A, bytes)).file;
    await store(B, bytes);
    const summary = (await deletions(a, []).deletePatient(mine.patientRef!))!;
    expect(summary.removedBlobs).toBe(0);
    expect(summary.deletedIds).toHaveLength(1);
    expect(existsSync(blobs.blobPath(mine.sha256))).toBe(true);
  });
});

describe('startup check with several rows per blob', () => {
  it('keeps a blob named by two owners’ rows, and reports both rows when it is gone', async () => {
    const bytes = study();
    const mine = (await store(A, bytes)).file;
    const theirs = (await store(B, bytes)).file;
    const clean = await repairDataDir({ dataDir: dir, blobs, db: database.db, catalog: root.catalog });
    expect(clean).toMatchObject({ orphanBlobsRemoved: 0, rowsWithoutBlobCount: 0, counterRepairs: 0 });
    expect(existsSync(blobs.blobPath(mine.sha256))).toBe(true);

    rmSync(blobs.blobPath(mine.sha256));
    const report = await repairDataDir({ dataDir: dir, blobs, db: database.db, catalog: root.catalog });
    expect(report.rowsWithoutBlobCount).toBe(2);
    expect([...report.rowsWithoutBlob].sort()).toEqual([mine.id, theirs.id].sort());
  });
});

describe('consistency check', () => {
  it('reports a file placed in another owner’s tree', async () => {
    const [f] = await aliceStudy(1);
    expect(root.catalog.checkConsistency()).toEqual([]);
    database.db.$client.prepare('UPDATE dicom_files SET owner_ref = ? WHERE id = ?').run(B, f!.id);
    expect(root.catalog.checkConsistency()).toEqual([`file ${f!.id}: refs or owner disagree with its series`]);
    database.db.$client.prepare('UPDATE dicom_files SET owner_ref = ? WHERE id = ?').run(A, f!.id);
    database.db.$client.prepare('UPDATE studies SET owner_ref = ? WHERE id = ?').run(B, f!.studyRef);
    expect(root.catalog.checkConsistency()).toEqual([`file ${f!.id}: refs or owner disagree with its series`, `study ${f!.studyRef}: owner disagrees with its patient`]);
    database.db.$client.prepare('UPDATE studies SET owner_ref = ? WHERE id = ?').run(A, f!.studyRef);
  });
});
