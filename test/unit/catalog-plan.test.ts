/**
 * Every catalog filter is answered through an index: the SQL each listing runs is captured and
 * its EXPLAIN QUERY PLAN checked — no table is read without an index, and listings whose order
 * an index gives are not sorted (keyset pages then cost the same at any depth). `npm run
 * bench:catalog` prints the same plans on 10⁶ instances; without ANALYZE statistics SQLite
 * plans the same way on a small database. Two owners hold the same catalog: every listing is
 * one owner's, so each plan must seek by owner (or through a more selective index) — never scan
 * every owner's rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogRepository } from '../../src/storage/catalog.js';
import { PARENT_LOOKUP_LIMIT } from '../../src/storage/catalog-filters.js';
import type { CatalogPage } from '../../src/storage/catalog-query.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import { LOCAL_USER_ID } from '../../src/storage/schema.js';
import { recordStatements } from '../helpers/sql-recorder.js';

let dir: string;
let database: OpenDatabase;
let catalog: CatalogRepository;
const captured: { sql: string; args: unknown[] }[] = [];
let capturing = false;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-plan-'));
  database = openDatabase(dir);
  const root = new DicomFileRepository(database.db);
  database.db.$client.prepare("INSERT INTO users (id, name, created_at) VALUES (2, 'other', 0)").run();
  catalog = root.forOwner(LOCAL_USER_ID).catalog;
  let n = 0;
  for (const owner of [LOCAL_USER_ID, 2])
  for (let s = 0; s < PARENT_LOOKUP_LIMIT + 6; s++) {
    const files = root.forOwner(owner);
    for (let i = 0; i < 3; i++) {
      n++;
      files.insertOrGetExisting({
        id: `f${n}`,
        sha256: String(n).padStart(64, '0'),
        filename: 'x.dcm',
        byteSize: 1,
        uploadedAt: new Date(1_700_000_000_000 + n),
        hasPixelData: false,
        headerEnd: 1,
        patientId: `P${s % 10}`,
        patientName: `NAME${s % 10}^GIVEN`,
        studyInstanceUid: `1.${s}`,
        studyDate: `202401${String(1 + (s % 28)).padStart(2, '0')}`,
        accessionNumber: `A${s}`,
        seriesInstanceUid: `1.${s}.${i % 2}`,
        seriesNumber: i % 2,
        modality: i % 2 ? 'CT' : 'SR',
        sopClassUid: i % 2 ? '1.2.840.10008.5.1.4.1.1.2' : '1.2.840.10008.5.1.4.1.1.88.22',
        sopInstanceUid: `1.${s}.${i % 2}.${i}`,
        instanceNumber: i,
      });
    }
  }
  recordStatements(database.db.$client, (sql, args) => {
    if (capturing) captured.push({ sql, args });
  });
});
afterAll(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The plan lines of every statement `fn` runs (totalCount included). */
function plans(fn: () => CatalogPage<unknown>): { sql: string; plan: string[] }[] {
  captured.length = 0;
  capturing = true;
  try {
    const page = fn();
    page.totalCount();
  } finally {
    capturing = false;
  }
  return captured.map(({ sql, args }) => ({
    sql,
    plan: (database.db.$client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(args as never[])) as { detail: string }[]).map((r) => r.detail),
  }));
}

const byDate = { field: 'STUDY_DATE', direction: 'DESC' } as const;
const byUpload = { field: 'UPLOADED_AT', direction: 'DESC' } as const;

interface Case {
  name: string;
  run: () => CatalogPage<unknown>;
  /** Index names the plan must use. */
  uses: string[];
  /** The listing's order comes from an index (no temp B-tree sort). */
  ordered: boolean;
}

const cases: Case[] = [
  { name: 'studies by date', run: () => catalog.listStudies({}, byDate, { first: 10 }), uses: ['studies_date_idx'], ordered: true },
  {
    name: 'studies: page after a cursor',
    run: () => catalog.listStudies({}, byDate, { first: 10, after: catalog.listStudies({}, byDate, { first: 30 }).edges.at(-1)!.cursor }),
    uses: ['studies_date_idx (owner_ref=? AND (study_date,study_time)<(?,?))'],
    ordered: true,
  },
  { name: 'studies: date range', run: () => catalog.listStudies({ studyDate: { from: '20240105', to: '20240110' } }, byDate, {}), uses: ['studies_date_idx (owner_ref=? AND study_date>? AND study_date<?)'], ordered: true },
  {
    name: 'studies: modality + date range',
    run: () => catalog.listStudies({ modality: 'CT', studyDate: { from: '20240105' } }, byDate, {}),
    uses: ['studies_date_idx (owner_ref=? AND study_date>?)', 'series_study_modality_idx (study_ref=? AND modality=?)'],
    ordered: true,
  },
  { name: 'studies: accession number', run: () => catalog.listStudies({ accessionNumber: 'A3' }, byDate, {}), uses: ['studies_accession_idx (accession_number=?)'], ordered: false },
  { name: 'studies: study UID', run: () => catalog.listStudies({ studyInstanceUid: '1.3' }, byDate, {}), uses: ['studies_uid_idx (study_instance_uid=?)'], ordered: false },
  { name: 'studies: patient ID', run: () => catalog.listStudies({ patientId: 'P3' }, byDate, {}), uses: ['patients_identity_unique (owner_ref=? AND patient_id=?)', 'studies_identity_unique (patient_ref=?)'], ordered: false },
  {
    name: 'studies: patient name prefix wildcard',
    run: () => catalog.listStudies({ patientName: 'name3*' }, byDate, {}),
    uses: ['patient_names_folded_idx (name_folded>? AND name_folded<?)', 'studies_identity_unique (patient_ref=?)'],
    ordered: false,
  },
  {
    name: 'studies: patient name infix wildcard (covering index scan of patient names)',
    run: () => catalog.listStudies({ patientName: '*3^G?VEN' }, byDate, {}),
    uses: ['COVERING INDEX patient_names_folded_idx'],
    ordered: false,
  },
  { name: 'studies: uploaded range', run: () => catalog.listStudies({ uploadedAt: { from: new Date(1_700_000_000_100) } }, { field: 'LAST_UPLOADED_AT', direction: 'DESC' }, {}), uses: ['studies_last_uploaded_at_idx (owner_ref=? AND last_uploaded_at>?)'], ordered: true },
  { name: 'a patient’s studies', run: () => catalog.listStudies({}, byDate, {}, { patientId: 1 }), uses: ['studies_patient_date_idx (patient_ref=?)'], ordered: true },
  { name: 'patients by name', run: () => catalog.listPatients({}, { field: 'PATIENT_NAME', direction: 'ASC' }, {}), uses: ['patients_name_sort_idx (owner_ref=?)'], ordered: true },
  { name: 'patients by ID', run: () => catalog.listPatients({}, { field: 'PATIENT_ID', direction: 'ASC' }, {}), uses: ['patients_identity_unique (owner_ref=?)'], ordered: true },
  { name: 'patients: name filter', run: () => catalog.listPatients({ patientName: 'NAME1^*' }, { field: 'PATIENT_NAME', direction: 'ASC' }, {}), uses: ['patient_names_folded_idx'], ordered: false },
  { name: 'a study’s series', run: () => catalog.listSeries({}, { field: 'SERIES_NUMBER', direction: 'ASC' }, {}, { studyId: 5 }), uses: ['series_study_number_idx (study_ref=?)'], ordered: true },
  { name: 'series: modality', run: () => catalog.listSeries({ modality: 'CT' }, { field: 'LAST_UPLOADED_AT', direction: 'DESC' }, {}), uses: ['series_modality_idx (owner_ref=? AND modality=?)'], ordered: true },
  { name: 'series: series UID', run: () => catalog.listSeries({ seriesInstanceUid: '1.4.1' }, { field: 'LAST_UPLOADED_AT', direction: 'DESC' }, {}), uses: ['series_uid_idx (series_instance_uid=?)'], ordered: false },
  { name: 'a series’ instances', run: () => catalog.listFiles({}, { field: 'INSTANCE_NUMBER', direction: 'ASC' }, {}, { seriesId: 3 }), uses: ['dicom_files_series_current_number_idx (series_ref=? AND is_current=?)'], ordered: true },
  { name: 'files, newest first', run: () => catalog.listFiles({}, byUpload, {}), uses: ['dicom_files_uploaded_idx (owner_ref=?)'], ordered: true },
  {
    name: 'files: page after a cursor',
    run: () => catalog.listFiles({}, byUpload, { first: 5, after: catalog.listFiles({}, byUpload, { first: 50 }).edges.at(-1)!.cursor }),
    uses: ['dicom_files_uploaded_idx (owner_ref=? AND (uploaded_at,id)<(?,?))'],
    ordered: true,
  },
  { name: 'files: study UID', run: () => catalog.listFiles({ studyInstanceUid: '1.7' }, byUpload, {}), uses: ['studies_uid_idx', 'dicom_files_study_uploaded_idx (study_ref=?)'], ordered: true },
  { name: 'files: accession number', run: () => catalog.listFiles({ accessionNumber: 'A7' }, byUpload, {}), uses: ['studies_accession_idx', 'dicom_files_study_uploaded_idx (study_ref=?)'], ordered: true },
  { name: 'files: patient ID', run: () => catalog.listFiles({ patientId: 'P2' }, byUpload, {}), uses: ['patients_identity_unique (owner_ref=? AND patient_id=?)', 'dicom_files_patient_uploaded_idx (patient_ref=?)'], ordered: true },
  { name: 'files: series UID', run: () => catalog.listFiles({ seriesInstanceUid: '1.7.1' }, byUpload, {}), uses: ['series_uid_idx', 'dicom_files_series_uploaded_idx (series_ref=?)'], ordered: true },
  {
    name: `files: a date range matching more than ${PARENT_LOOKUP_LIMIT} studies (ordered walk, subquery filter)`,
    run: () => catalog.listFiles({ studyDate: { from: '20240101' } }, byUpload, {}),
    uses: ['dicom_files_uploaded_idx (owner_ref=?)', 'studies_date_idx (owner_ref=? AND study_date>?)'],
    ordered: true,
  },
  { name: 'files: SOP class', run: () => catalog.listFiles({ sopClassUid: '1.2.840.10008.5.1.4.1.1.88.22' }, byUpload, {}), uses: ['dicom_files_sop_class_idx (owner_ref=? AND sop_class_uid=? AND is_current=?)'], ordered: true },
  { name: 'files: modality', run: () => catalog.listFiles({ modality: 'SR' }, byUpload, {}), uses: ['dicom_files_modality_idx (owner_ref=? AND modality=? AND is_current=?)'], ordered: true },
  { name: 'files: SOP instance UID', run: () => catalog.listFiles({ sopInstanceUid: '1.3.1.1', includeAllVersions: true }, byUpload, {}), uses: ['dicom_files_sop_instance_uid_idx (sop_instance_uid=?)'], ordered: false },
  { name: 'files: uploaded range', run: () => catalog.listFiles({ uploadedAt: { from: new Date(1_700_000_000_100) } }, byUpload, {}), uses: ['dicom_files_uploaded_idx (owner_ref=? AND uploaded_at>?)'], ordered: true },
];

describe('catalog query plans', () => {
  for (const c of cases) {
    it(c.name, () => {
      const statements = plans(c.run);
      const text = statements.map((s) => `${s.sql}\n  ${s.plan.join('\n  ')}`).join('\n');
      const lines = statements.flatMap((s) => s.plan);
      for (const use of c.uses) expect(lines.some((l) => l.includes(use)), `${use} in\n${text}`).toBe(true);
      // No table read without an index: "SCAN t" alone is a full table scan.
      const fullScans = statements.filter((s) => s.plan.some((l) => /^SCAN \w+$/.test(l)));
      expect(fullScans, text).toEqual([]);
      // No index walked across owners: a scan of an owner-leading index (SCAN … USING INDEX
      // x_idx) would read every owner's rows; every statement names the owner.
      expect(statements.filter((s) => s.plan.some((l) => /^SCAN (studies|series|patients|dicom_files) USING/.test(l))), text).toEqual([]);
      for (const s of statements) expect(s.sql, text).toMatch(/"owner_ref"/);
      const listing = statements[statements.findIndex((s) => /\blimit\b/.test(s.sql) && /^select "id", /.test(s.sql) && /order by/.test(s.sql) && !/"id" from "(studies|series|patients)" where/.test(s.sql))];
      if (c.ordered) expect(listing?.plan.some((l) => l.includes('TEMP B-TREE FOR ORDER BY')), text).toBe(false);
    });
  }
});

/**
 * The write path: every statement an upload into a large series runs, and a single-file delete
 * there, seeks by a key; none walks the series', study's or patient's files (an upload into a CT
 * series of thousands of slices costs what one into an empty series costs). A fresh connection
 * of the same file, recorded from its first statement (the upload statements are prepared once
 * per connection).
 */
describe('write path plans', () => {
  /** SEARCH lines allowed on dicom_files: each names a single row or one instance's versions. */
  const fileSeeks = [
    /^SEARCH dicom_files USING INDEX sqlite_autoindex_dicom_files_1 \(id=\?\)$/,
    /^SEARCH dicom_files USING INDEX dicom_files_owner_sha256_unique \(owner_ref=\? AND sha256=\?\)$/,
    /^SEARCH dicom_files USING (COVERING )?INDEX dicom_files_sha256_idx \(sha256=\?\)$/,
    /^SEARCH dicom_files USING INDEX dicom_files_series_sop_current_idx \(series_ref=\? AND sop_instance_uid=\?( AND is_current=\?)?\)$/,
  ];
  const BIG = 400;

  function recorded(fn: (files: DicomFileRepository) => void): { sql: string; plan: string[] }[] {
    const second = openDatabase(dir);
    const statements: { sql: string; args: unknown[] }[] = [];
    recordStatements(second.db.$client, (sql, args) => statements.push({ sql, args }));
    try {
      fn(new DicomFileRepository(second.db));
      return statements.map(({ sql, args }) => ({
        sql,
        plan: (second.db.$client.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(args as never[])) as { detail: string }[]).map((r) => r.detail),
      }));
    } finally {
      second.close();
    }
  }

  const file = (n: number, o: Record<string, unknown> = {}) => ({
    id: `w${n}`,
    sha256: `w${n}`.padStart(64, '0'),
    filename: 'x.dcm',
    byteSize: 1,
    uploadedAt: new Date(1_800_000_000_000 + n),
    hasPixelData: false,
    headerEnd: 1,
    patientId: 'PW',
    patientName: 'WRITE^PATH',
    studyInstanceUid: '9.1',
    seriesInstanceUid: '9.1.1',
    modality: 'CT',
    sopInstanceUid: `9.1.1.${n}`,
    instanceNumber: n,
    ...o,
  });

  beforeAll(() => {
    const files = new DicomFileRepository(database.db).forOwner(LOCAL_USER_ID);
    files.catalog.transaction(() => {
      for (let n = 1; n <= BIG; n++) files.insertOrGetExisting(file(n));
    });
  });

  function expectSeeks(all: { sql: string; plan: string[] }[]): void {
    // The plan of a parent's INSERT lists SQLite's foreign-key probes of its children (by the
    // parent's id; run only while deferred violations are pending): seeks, not part of the test.
    const statements = all.map((s) =>
      /^INSERT INTO "(patients|studies|series)"/.test(s.sql)
        ? { ...s, plan: s.plan.filter((l) => !/^SEARCH (studies|series|patient_names|dicom_files) USING (COVERING )?INDEX \w+ \((patient|study|series)_ref=\?\)$/.test(l)) }
        : s,
    );
    const text = statements.map((s) => `${s.sql}\n  ${s.plan.join('\n  ')}`).join('\n');
    expect(statements.length, text).toBeGreaterThan(5);
    for (const s of statements) {
      for (const line of s.plan) {
        // No scan of any table or index.
        expect(line, text).not.toMatch(/^SCAN /);
        if (/^SEARCH dicom_files /.test(line)) expect(fileSeeks.some((re) => re.test(line)), `${line} in\n${text}`).toBe(true);
      }
      // Sorting only the versions of one instance (a handful of rows).
      if (s.plan.some((l) => l.includes('TEMP B-TREE'))) expect(s.plan.some((l) => l.includes('dicom_files_series_sop_current_idx')), text).toBe(true);
    }
  }

  it('a new version of an instance in a large series', () => {
    const statements = recorded((root) => root.forOwner(LOCAL_USER_ID).insertOrGetExisting(file(BIG + 1, { sopInstanceUid: '9.1.1.7', sha256: 'v2'.padStart(64, '0') })));
    expect(statements.some((s) => s.plan.some((l) => l.includes('dicom_files_series_sop_current_idx (series_ref=? AND sop_instance_uid=? AND is_current=?)')))).toBe(true);
    expectSeeks(statements);
  });

  it('a new instance in a large series, and a new series, study and patient', () => {
    expectSeeks(recorded((root) => root.forOwner(LOCAL_USER_ID).insertOrGetExisting(file(BIG + 2))));
    expectSeeks(recorded((root) => root.forOwner(LOCAL_USER_ID).insertOrGetExisting(file(BIG + 3, { patientId: 'PX', studyInstanceUid: '9.2', seriesInstanceUid: '9.2.1', modality: 'MR' }))));
  });

  it('deleting the current version of an instance in a large series (the newest other version becomes current)', () => {
    const statements = recorded((root) => {
      expect(root.forOwner(LOCAL_USER_ID).catalog.deleteFile(`w${BIG + 1}`)?.deletedFiles.length).toBe(1);
    });
    // The series' recomputation seeks its newest file instead of sorting the series.
    expect(statements.some((s) => s.plan.some((l) => l.includes('dicom_files_series_uploaded_idx (series_ref=?)')))).toBe(true);
    // Counting the series' current files reads the series' index entries (index only): allowed.
    const counted = statements.filter((s) => s.plan.some((l) => l === 'SEARCH dicom_files USING COVERING INDEX dicom_files_series_current_number_idx (series_ref=? AND is_current=?)'));
    expect(counted.length).toBe(1);
    expectSeeks(
      statements
        .filter((s) => !counted.includes(s))
        .map((s) => ({ ...s, plan: s.plan.filter((l) => !/^SEARCH dicom_files USING (COVERING )?INDEX dicom_files_(series_uploaded|study_uploaded|patient_uploaded)_idx \((series|study|patient)_ref=\?\)$/.test(l)) })),
    );
    expect(new DicomFileRepository(database.db).catalog.checkConsistency()).toEqual([]);
  });
});
