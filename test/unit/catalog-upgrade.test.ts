/**
 * Upgrading an existing install: a database made by migration 0000 alone, with files stored the
 * old way, is opened by the current code (migrations 0001 and 0002 apply), then backfillCatalog
 * re-reads the stored headers and places every old file in the catalog, oldest first — all of it
 * the local user's (owner 1), as is a catalog stored before accounts existed (migration 0001).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { scanDicom } from '../../src/dicom/scan.js';
import { backfillCatalog } from '../../src/storage/catalog-backfill.js';
import { openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { LOCAL_USER_ID } from '../../src/storage/schema.js';
import { catalogFile } from '../helpers/catalog-files.js';

const drizzleDir = new URL('../../drizzle/', import.meta.url).pathname;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data dir whose database has only the first `migrations` migrations applied (default: from before the catalog). */
function oldInstall(migrations_ = 1): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-upgrade-'));
  const migrations = mkdtempSync(join(tmpdir(), 'dicomql-migrations-'));
  dirs.push(dataDir, migrations);
  cpSync(drizzleDir, migrations, { recursive: true });
  const journalPath = join(migrations, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8'));
  expect(journal.entries[0].tag).toBe('0000_init');
  journal.entries = journal.entries.slice(0, migrations_);
  writeFileSync(journalPath, JSON.stringify(journal));
  const sqlite = new Database(join(dataDir, 'dicomql.sqlite'));
  migrate(drizzle(sqlite), { migrationsFolder: migrations });
  sqlite.close();
  return dataDir;
}

describe('upgrade from a database without the catalog', () => {
  it('adds the catalog and backfills it from the stored headers', async () => {
    const dataDir = oldInstall();
    const blobs = new LocalBlobStore(dataDir);
    const uploads = [
      catalogFile({ patientId: 'OLD-1', patientName: 'Old^Patient', studyUid: '5.1', studyDate: '19991231', seriesUid: '5.1.1', sopUid: '5.1.1.1', instanceNumber: 1 }),
      catalogFile({ patientId: 'OLD-1', patientName: 'Old^Patient', studyUid: '5.1', studyDate: '19991231', seriesUid: '5.1.1', sopUid: '5.1.1.2', instanceNumber: 2 }),
      // a newer version of 5.1.1.1
      catalogFile({ patientId: 'OLD-1', patientName: 'Old^Patient', studyUid: '5.1', studyDate: '19991231', seriesUid: '5.1.1', sopUid: '5.1.1.1', instanceNumber: 1, revision: 'fixed' }),
      catalogFile({ patientId: null, studyUid: '5.2', seriesUid: '5.2.1', sopUid: '5.2.1.1', modality: 'MR' }),
    ];
    const sqlite = new Database(join(dataDir, 'dicomql.sqlite'));
    const insert = sqlite.prepare(`INSERT INTO dicom_files (id, sha256, filename, byte_size, uploaded_at, transfer_syntax_uid, sop_class_uid,
      sop_instance_uid, patient_id, patient_name, study_instance_uid, series_instance_uid, modality, has_pixel_data, header_end)
      VALUES (?, ?, ?, ?, ?, '1.2.840.10008.1.2.1', '1.2.840.10008.5.1.4.1.1.2', ?, ?, ?, ?, ?, ?, 0, ?)`);
    const stored: string[] = [];
    for (const [i, bytes] of uploads.entries()) {
      const temp = await blobs.write(Readable.from([bytes]), 1e6);
      await temp.commit();
      await temp.discard();
      stored.push(temp.sha256);
      const headerEnd = scanDicom(new BufferByteSource(bytes)).headerEnd;
      // the old columns only; study date, instance number etc. were not indexed then
      insert.run(`old-${i}`, temp.sha256, `old-${i}.dcm`, bytes.length, 1_600_000_000_000 + i, null, null, null, null, null, null, headerEnd);
    }
    // a row whose blob is gone: placed from what the row says
    insert.run('old-missing', 'f'.repeat(64), 'missing.dcm', 10, 1_600_000_000_100, '7.7.7', 'GONE', 'Gone^Patient', '7.1', '7.1.1', 'CT', 10);
    sqlite.close();

    const database = openDatabase(dataDir); // applies 0001_catalog
    try {
      const root = new DicomFileRepository(database.db);
      const files = root.forOwner(LOCAL_USER_ID);
      expect(files.count()).toBe(5);
      expect(root.forOwner(2).count()).toBe(0);
      expect(files.findById('old-0')).toMatchObject({ ownerRef: LOCAL_USER_ID, seriesRef: null, isCurrent: false, studyDate: null });
      expect(root.catalog.uncataloguedFiles(10)).toHaveLength(5);

      // An upload that arrives before the backfill has run (it may run in the background): a
      // newer version of 5.1.1.2. Placing the older rows afterwards must not demote it.
      const fresh = files.insertOrGetExisting({
        id: 'new-1',
        sha256: 'e'.repeat(64),
        filename: 'new.dcm',
        byteSize: 1,
        uploadedAt: new Date(1_700_000_000_000),
        hasPixelData: false,
        headerEnd: 1,
        patientId: 'OLD-1',
        patientName: 'Old^Patient^Renamed',
        studyInstanceUid: '5.1',
        seriesInstanceUid: '5.1.1',
        sopInstanceUid: '5.1.1.2',
        modality: 'CT',
        instanceNumber: 2,
      }).file;
      expect(fresh.isCurrent).toBe(true);

      const unreadable: string[] = [];
      const report = await backfillCatalog(root.catalog, blobs, (id) => unreadable.push(id));
      expect(report).toEqual({ placed: 5, unreadable: 1 });
      expect(unreadable).toEqual(['old-missing']);
      expect(root.catalog.uncataloguedFiles(10)).toEqual([]);
      expect(root.catalog.checkConsistency()).toEqual([]);
      // Every old row, and the catalog built from them, is the local user's.
      for (const table of ['dicom_files', 'patients', 'studies', 'series']) {
        expect(database.db.$client.prepare(`SELECT DISTINCT owner_ref FROM ${table}`).pluck().all(), table).toEqual([LOCAL_USER_ID]);
      }
      expect(root.forOwner(2).catalog.listPatients({}, { field: 'PATIENT_ID', direction: 'ASC' }, {}).totalCount()).toBe(0);

      expect(files.findById('old-0')).toMatchObject({ patientId: 'OLD-1', studyDate: '19991231', instanceNumber: 1, isCurrent: false });
      expect(files.findById('old-2')).toMatchObject({ isCurrent: true });
      expect(files.findById('old-1')).toMatchObject({ isCurrent: false, instanceNumber: 2 });
      expect(files.findById('new-1')).toMatchObject({ isCurrent: true });
      const patients = files.catalog.listPatients({}, { field: 'PATIENT_ID', direction: 'ASC' }, {}).edges.map((e) => e.node);
      expect(patients.map((p) => [p.patientId, p.unknownScope, p.studyCount, p.instanceCount])).toEqual([
        ['', '5.2', 1, 1],
        ['GONE', '', 1, 1],
        ['OLD-1', '', 1, 2],
      ]);
      expect(patients[2]!.patientName).toBe('Old^Patient^Renamed'); // the newest file's, not the backfilled ones'
      expect(files.catalog.otherPatientNames(patients[2]!)).toEqual(['Old^Patient']);
      const study = files.catalog.listStudies({ studyInstanceUid: '5.1' }, { field: 'STUDY_DATE', direction: 'DESC' }, {}).edges[0]!.node;
      expect(study).toMatchObject({ studyDate: '19991231', seriesCount: 1, instanceCount: 2, modalities: 'CT' });

      // Idempotent: nothing left to do at the next start.
      expect(await backfillCatalog(root.catalog, blobs)).toEqual({ placed: 0, unreadable: 0 });
    } finally {
      database.close();
    }
  });

  it('gives a catalog stored before accounts existed (migration 0001) to the local user', () => {
    const dataDir = oldInstall(2);
    const sqlite = new Database(join(dataDir, 'dicomql.sqlite'));
    const at = 1_650_000_000_000;
    sqlite.prepare(`INSERT INTO patients (id, patient_id, patient_name, patient_name_sort, study_count, instance_count, first_uploaded_at, last_uploaded_at)
      VALUES (7, 'PRE-1', 'Pre^Accounts', 'PRE^ACCOUNTS', 1, 1, ?, ?)`).run(at, at);
    sqlite.prepare(`INSERT INTO patient_names (patient_ref, name, name_folded, file_count) VALUES (7, 'Pre^Accounts', 'PRE^ACCOUNTS', 1)`).run();
    sqlite.prepare(`INSERT INTO studies (id, patient_ref, study_instance_uid, study_date, modalities, series_count, instance_count, first_uploaded_at, last_uploaded_at)
      VALUES (8, 7, '6.1', '20200101', 'CT', 1, 1, ?, ?)`).run(at, at);
    sqlite.prepare(`INSERT INTO series (id, study_ref, series_instance_uid, modality, instance_count, first_uploaded_at, last_uploaded_at)
      VALUES (9, 8, '6.1.1', 'CT', 1, ?, ?)`).run(at, at);
    sqlite.prepare(`INSERT INTO dicom_files (id, sha256, filename, byte_size, uploaded_at, sop_instance_uid, patient_id, patient_name, study_instance_uid,
      study_date, series_instance_uid, modality, has_pixel_data, header_end, patient_ref, study_ref, series_ref, is_current)
      VALUES ('pre-1', ?, 'pre.dcm', 10, ?, '6.1.1.1', 'PRE-1', 'Pre^Accounts', '6.1', '20200101', '6.1.1', 'CT', 0, 10, 7, 8, 9, 1)`).run('d'.repeat(64), at);
    sqlite.close();

    const database = openDatabase(dataDir); // applies 0002_owners_tokens_audit
    try {
      expect(database.db.$client.prepare('SELECT id, name, is_admin FROM users').all()).toEqual([{ id: LOCAL_USER_ID, name: 'local', is_admin: 1 }]);
      const root = new DicomFileRepository(database.db);
      expect(root.catalog.checkConsistency()).toEqual([]);
      const local = root.forOwner(LOCAL_USER_ID);
      expect(local.findById('pre-1')).toMatchObject({ ownerRef: LOCAL_USER_ID, seriesRef: 9 });
      expect(local.findBySha256('d'.repeat(64))?.id).toBe('pre-1');
      expect(local.catalog.patient(7)).toMatchObject({ ownerRef: LOCAL_USER_ID, patientName: 'Pre^Accounts', studyCount: 1 });
      expect(local.catalog.listStudies({ patientId: 'PRE-1' }, { field: 'STUDY_DATE', direction: 'DESC' }, {}).edges.map((e) => e.node.id)).toEqual([8]);
      expect(local.catalog.listFiles({ modality: 'CT' }, { field: 'UPLOADED_AT', direction: 'DESC' }, {}).totalCount()).toBe(1);
      // Nobody else sees it.
      const other = root.forOwner(2);
      expect(other.findById('pre-1')).toBeUndefined();
      expect(other.catalog.patient(7)).toBeUndefined();
      expect(other.catalog.listStudies({}, { field: 'STUDY_DATE', direction: 'DESC' }, {}).totalCount()).toBe(0);
    } finally {
      database.close();
    }
  });
});
