/**
 * The catalog repository on a temp database: placement (patients, studies, series, versions),
 * the maintained counters, deletes (returned blobs, promotion of the previous version, removal of
 * emptied parents, recomputed attributes), and keyset pagination against a plain sort.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidCursorError } from '../../src/errors.js';
import type { CatalogRepository } from '../../src/storage/catalog.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository, type OwnerFileRepository } from '../../src/storage/dicom-files.js';
import type { DicomFileRow, NewDicomFileRow } from '../../src/storage/schema.js';

let dir: string;
let database: OpenDatabase;
let root: DicomFileRepository;
let files: OwnerFileRepository;
let catalog: CatalogRepository;
let n = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-catalog-'));
  database = openDatabase(dir);
  root = new DicomFileRepository(database.db);
  files = root.forOwner(1);
  catalog = files.catalog;
  n = 0;
});
afterEach(() => {
  expect(root.catalog.checkConsistency()).toEqual([]);
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Inserts a file row as ingest would (every upload one millisecond after the previous one). */
function add(o: Partial<NewDicomFileRow> = {}): DicomFileRow {
  n++;
  const { file, duplicate } = files.insertOrGetExisting({
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
    seriesInstanceUid: '1.1.1',
    sopInstanceUid: `1.1.1.${n}`,
    modality: 'CT',
    ...o,
  });
  expect(duplicate).toBe(false);
  return file;
}

const byDate = { field: 'STUDY_DATE', direction: 'DESC' } as const;
const allStudies = (filter = {}) => catalog.listStudies(filter, byDate, { first: 500 }).edges.map((e) => e.node);
const onlyPatient = () => {
  const page = catalog.listPatients({}, { field: 'PATIENT_NAME', direction: 'ASC' }, {});
  expect(page.edges).toHaveLength(1);
  return page.edges[0]!.node;
};

describe('placement', () => {
  it('builds patient → study → series with counts and newest attributes', () => {
    add({ studyDate: '20240105', studyDescription: 'CT HEAD', seriesNumber: 1, instanceNumber: 1 });
    add({ seriesNumber: 1, instanceNumber: 2, studyDescription: 'CT HEAD W/O' });
    add({ seriesInstanceUid: '1.1.2', modality: 'PR', seriesNumber: 2 });
    add({ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.1', modality: 'MR', studyDate: '20230101' });

    const patient = onlyPatient();
    expect(patient).toMatchObject({ patientId: 'P1', patientName: 'Doe^John', studyCount: 2, instanceCount: 4 });
    const [newer, older] = allStudies();
    expect(newer).toMatchObject({ studyInstanceUid: '1.1', studyDate: '20240105', studyDescription: 'CT HEAD W/O', seriesCount: 2, instanceCount: 3, modalities: 'CT\\PR' });
    expect(older).toMatchObject({ studyInstanceUid: '1.2', seriesCount: 1, instanceCount: 1, modalities: 'MR' });
    const series = catalog.listSeries({}, { field: 'SERIES_NUMBER', direction: 'ASC' }, {}, { studyId: newer!.id }).edges.map((e) => e.node);
    expect(series.map((s) => [s.seriesInstanceUid, s.modality, s.instanceCount])).toEqual([
      ['1.1.1', 'CT', 2],
      ['1.1.2', 'PR', 1],
    ]);
  });

  it('keeps one patient per (PatientID, issuer) with every name seen', () => {
    add({ patientName: 'Doe^John' });
    add({ patientName: 'DOE^JOHN^^MR' });
    add({ patientName: 'Doe^John' });
    add({ patientId: 'P1', issuerOfPatientId: 'HOSP-B', patientName: 'Roe^Richard' });
    const patients = catalog.listPatients({}, { field: 'PATIENT_ID', direction: 'ASC' }, {}).edges.map((e) => e.node);
    expect(patients.map((p) => [p.patientId, p.issuer, p.patientName])).toEqual([
      ['P1', '', 'Doe^John'],
      ['P1', 'HOSP-B', 'Roe^Richard'],
    ]);
    expect(catalog.otherPatientNames(patients[0]!)).toEqual(['DOE^JOHN^^MR']);
    expect(catalog.patientNameCount(patients[0]!.id)).toBe(2);
    expect(catalog.patientNameCount(patients[1]!.id)).toBe(1);
  });

  it('gives files without PatientID an unknown patient per study, and files without UIDs their own study and series', () => {
    add({ patientId: null, patientName: 'Anonymous', studyInstanceUid: '9.1' });
    add({ patientId: '  ', patientName: 'Anonymous', studyInstanceUid: '9.1' });
    add({ patientId: null, studyInstanceUid: '9.2', seriesInstanceUid: '9.2.1' });
    add({ studyInstanceUid: null, seriesInstanceUid: null });
    add({ studyInstanceUid: null, seriesInstanceUid: null });
    const patients = catalog.listPatients({}, { field: 'PATIENT_ID', direction: 'ASC' }, {}).edges.map((e) => e.node);
    expect(patients.map((p) => [p.patientId, p.unknownScope, p.instanceCount])).toEqual([
      ['', '9.1', 2],
      ['', '9.2', 1],
      ['P1', '', 2],
    ]);
    const noUid = allStudies({ patientId: 'P1' });
    expect(noUid).toHaveLength(1);
    expect(noUid[0]).toMatchObject({ studyInstanceUid: '', seriesCount: 1, instanceCount: 2 });
  });

  it('treats the same Study Instance UID under two patients as two studies', () => {
    add({ patientId: 'A', sopInstanceUid: '5.5' });
    add({ patientId: 'B', sopInstanceUid: '5.5' });
    const studies = allStudies({ studyInstanceUid: '1.1' });
    expect(studies).toHaveLength(2);
    expect(studies.every((s) => s.instanceCount === 1)).toBe(true);
  });

  it('dedupes identical bytes without touching the catalog', () => {
    const first = add();
    const again = files.insertOrGetExisting({ ...first, id: 'another-id', uploadedAt: new Date() });
    expect(again).toEqual({ file: first, duplicate: true });
    expect(onlyPatient().instanceCount).toBe(1);
  });
});

describe('versions', () => {
  it('makes the newest upload of a SOP Instance UID current, keeps the older one, counts the instance once', () => {
    const v1 = add({ sopInstanceUid: '7.7', studyDescription: 'first' });
    const v2 = add({ sopInstanceUid: '7.7', studyDescription: 'second' });
    expect(v2.isCurrent).toBe(true);
    expect(files.findById(v1.id)?.isCurrent).toBe(false);
    expect(catalog.versionsOf(v1).map((f) => f.id)).toEqual([v2.id, v1.id]);
    expect(onlyPatient().instanceCount).toBe(1);
    const listed = catalog.listFiles({}, { field: 'UPLOADED_AT', direction: 'DESC' }, {});
    expect(listed.edges.map((e) => e.node.id)).toEqual([v2.id]);
    expect(listed.totalCount()).toBe(1);
    const all = catalog.listFiles({ includeAllVersions: true }, { field: 'UPLOADED_AT', direction: 'DESC' }, {});
    expect(all.edges.map((e) => e.node.id)).toEqual([v2.id, v1.id]);
    expect(all.totalCount()).toBe(2);
  });

  it('treats files without SOP Instance UID as separate instances', () => {
    add({ sopInstanceUid: null });
    add({ sopInstanceUid: null });
    expect(onlyPatient().instanceCount).toBe(2);
  });
});

describe('deletes', () => {
  it('deleting the current version makes the previous one current again', () => {
    const v1 = add({ sopInstanceUid: '7.7', studyDescription: 'old' });
    const v2 = add({ sopInstanceUid: '7.7', studyDescription: 'new' });
    const result = catalog.deleteFile(v2.id);
    expect(result).toEqual({
      deletedFiles: [
        { id: v2.id, ownerRef: 1, sha256: v2.sha256, filename: v2.filename, sopInstanceUid: '7.7', seriesInstanceUid: v2.seriesInstanceUid, studyInstanceUid: v2.studyInstanceUid },
      ],
      unreferencedBlobs: [v2.sha256],
      deletedSeriesIds: [],
      deletedStudyIds: [],
      deletedPatientIds: [],
    });
    expect(files.findById(v1.id)?.isCurrent).toBe(true);
    expect(allStudies()[0]).toMatchObject({ instanceCount: 1, studyDescription: 'old' });
  });

  it('deleting an old version changes no count', () => {
    const v1 = add({ sopInstanceUid: '7.7' });
    const v2 = add({ sopInstanceUid: '7.7' });
    catalog.deleteFile(v1.id);
    expect(files.findById(v2.id)?.isCurrent).toBe(true);
    expect(onlyPatient().instanceCount).toBe(1);
  });

  it('removes series, study and patient left empty, and recomputes what remains', () => {
    const keep = add({ patientName: 'Doe^John', studyDate: '20200101', seriesInstanceUid: '1.1.1', modality: 'CT' });
    const gone = add({ patientName: 'Doe^Jon', studyDate: '20210101', seriesInstanceUid: '1.1.2', modality: 'MR' });
    expect(onlyPatient()).toMatchObject({ patientName: 'Doe^Jon' });
    expect(allStudies()[0]).toMatchObject({ studyDate: '20210101', modalities: 'CT\\MR', seriesCount: 2 });

    const result = catalog.deleteFile(gone.id)!;
    expect(result.deletedSeriesIds).toHaveLength(1);
    expect(result.deletedStudyIds).toEqual([]);
    const patient = onlyPatient();
    expect(patient).toMatchObject({ patientName: 'Doe^John', instanceCount: 1, lastUploadedAt: keep.uploadedAt });
    expect(catalog.patientNameCount(patient.id)).toBe(1);
    expect(allStudies()[0]).toMatchObject({ studyDate: '20200101', modalities: 'CT', seriesCount: 1, instanceCount: 1 });

    const last = catalog.deleteFile(keep.id)!;
    expect(last.deletedSeriesIds).toHaveLength(1);
    expect(last.deletedStudyIds).toHaveLength(1);
    expect(last.deletedPatientIds).toEqual([patient.id]);
    expect(catalog.listPatients({}, { field: 'PATIENT_NAME', direction: 'ASC' }, {}).totalCount()).toBe(0);
  });

  it('deletes a series, a study and a patient with every version, returning every blob', () => {
    const a = add({ seriesInstanceUid: '1.1.1', sopInstanceUid: '1' });
    const a2 = add({ seriesInstanceUid: '1.1.1', sopInstanceUid: '1' });
    const b = add({ seriesInstanceUid: '1.1.2' });
    const c = add({ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.1' });
    const d = add({ patientId: 'P2', studyInstanceUid: '2.1', seriesInstanceUid: '2.1.1' });

    const seriesId = a.seriesRef!;
    const r1 = catalog.deleteSeries(seriesId)!;
    expect(r1.deletedFiles.map((f) => f.id).sort()).toEqual([a.id, a2.id]);
    expect([...r1.unreferencedBlobs].sort()).toEqual([a.sha256, a2.sha256].sort());
    expect(r1.deletedSeriesIds).toEqual([seriesId]);
    expect(catalog.series(seriesId)).toBeUndefined();
    expect(catalog.study(b.studyRef!)).toMatchObject({ seriesCount: 1, instanceCount: 1 });

    const r2 = catalog.deleteStudy(b.studyRef!)!;
    expect(r2.deletedFiles.map((f) => f.id)).toEqual([b.id]);
    expect(r2.deletedStudyIds).toEqual([b.studyRef]);
    expect(r2.deletedPatientIds).toEqual([]);
    expect(catalog.patient(c.patientRef!)).toMatchObject({ studyCount: 1, instanceCount: 1 });

    const r3 = catalog.deletePatient(c.patientRef!)!;
    expect(r3.deletedFiles.map((f) => f.id)).toEqual([c.id]);
    expect(r3.deletedPatientIds).toEqual([c.patientRef]);
    expect(catalog.patient(d.patientRef!)).toMatchObject({ studyCount: 1, instanceCount: 1 });
    expect(files.count()).toBe(1);
  });

  it('answers undefined for unknown ids and changes nothing', () => {
    add();
    expect(catalog.deleteFile('nope')).toBeUndefined();
    expect(catalog.deleteSeries(999)).toBeUndefined();
    expect(catalog.deleteStudy(999)).toBeUndefined();
    expect(catalog.deletePatient(999)).toBeUndefined();
    expect(files.count()).toBe(1);
  });

  it('keeps every counter consistent through random uploads, versions and deletes', () => {
    let seed = 42;
    const rand = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const stored: DicomFileRow[] = [];
    for (let step = 0; step < 400; step++) {
      const op = rand(10);
      if (op < 7 || stored.length === 0) {
        const p = rand(3);
        const st = rand(2);
        const se = rand(3);
        stored.push(
          add({
            patientId: p === 2 ? null : `P${p}`,
            patientName: `Name${rand(3)}`,
            studyInstanceUid: `${p}.${st}`,
            seriesInstanceUid: `${p}.${st}.${se}`,
            sopInstanceUid: rand(8) === 0 ? null : `${p}.${st}.${se}.${rand(6)}`,
            modality: ['CT', 'MR', null][rand(3)],
            studyDate: rand(2) ? `2024010${1 + rand(9)}` : null,
          }),
        );
      } else {
        const victim = stored.splice(rand(stored.length), 1)[0]!;
        const live = files.findById(victim.id);
        if (!live) continue;
        if (op === 7) catalog.deleteFile(victim.id);
        else if (op === 8 && live.seriesRef) catalog.deleteSeries(live.seriesRef);
        else if (live.studyRef) catalog.deleteStudy(live.studyRef);
      }
      const problems = root.catalog.checkConsistency();
      if (problems.length > 0) throw new Error(`step ${step}: ${problems.join('; ')}`);
    }
  });
});

describe('keyset pagination', () => {
  beforeEach(() => {
    // 30 studies, several on the same date (ties broken by id), some without a date.
    for (let i = 0; i < 30; i++) add({ studyInstanceUid: `2.${i}`, seriesInstanceUid: `2.${i}.1`, studyDate: i % 7 === 0 ? null : `2024010${i % 3}` });
  });

  const sorted = (direction: 'ASC' | 'DESC') => {
    const rows = allStudies().sort((a, b) => (a.studyDate < b.studyDate ? -1 : a.studyDate > b.studyDate ? 1 : a.studyTime < b.studyTime ? -1 : a.id - b.id));
    return (direction === 'ASC' ? rows : rows.reverse()).map((s) => s.id);
  };

  for (const direction of ['ASC', 'DESC'] as const) {
    it(`walks forwards and backwards (${direction}) through every row exactly once`, () => {
      const order = { field: 'STUDY_DATE', direction } as const;
      const forward: number[] = [];
      let after: string | undefined;
      for (;;) {
        const page = catalog.listStudies({}, order, { first: 7, after });
        forward.push(...page.edges.map((e) => e.node.id));
        expect(page.hasPreviousPage).toBe(after !== undefined);
        if (!page.hasNextPage) break;
        after = page.edges.at(-1)!.cursor;
      }
      expect(forward).toEqual(sorted(direction));

      const backward: number[] = [];
      let before: string | undefined;
      for (;;) {
        const page = catalog.listStudies({}, order, { last: 4, before });
        backward.unshift(...page.edges.map((e) => e.node.id));
        expect(page.hasNextPage).toBe(before !== undefined);
        if (!page.hasPreviousPage) break;
        before = page.edges[0]!.cursor;
      }
      expect(backward).toEqual(sorted(direction));
    });
  }

  it('pages between two cursors, and past the end is empty', () => {
    const all = catalog.listStudies({}, byDate, { first: 30 });
    const ids = all.edges.map((e) => e.node.id);
    const between = catalog.listStudies({}, byDate, { first: 100, after: all.edges[4]!.cursor, before: all.edges[10]!.cursor });
    expect(between.edges.map((e) => e.node.id)).toEqual(ids.slice(5, 10));
    expect(between.hasNextPage).toBe(false);
    expect(between.hasPreviousPage).toBe(true);
    const end = catalog.listStudies({}, byDate, { first: 5, after: all.edges.at(-1)!.cursor });
    expect(end.edges).toEqual([]);
    expect(end.hasNextPage).toBe(false);
    expect(end.hasPreviousPage).toBe(true);
    expect(end.totalCount()).toBe(30);
  });

  it('pages a nullable key (series number) in both directions', () => {
    const studyId = add({ studyInstanceUid: '3.0', seriesInstanceUid: '3.0.0', seriesNumber: null }).studyRef!;
    for (let i = 1; i < 12; i++) add({ studyInstanceUid: '3.0', seriesInstanceUid: `3.0.${i}`, seriesNumber: i % 4 === 0 ? null : i % 3 });
    const expected = catalog
      .listSeries({}, { field: 'SERIES_NUMBER', direction: 'ASC' }, { first: 100 }, { studyId })
      .edges.map((e) => [e.node.seriesNumber, e.node.id]);
    const nulls = expected.filter(([num]) => num === null);
    expect(nulls.length).toBeGreaterThan(1);
    expect(expected.slice(0, nulls.length)).toEqual(nulls); // NULLs first ascending
    for (const direction of ['ASC', 'DESC'] as const) {
      const want = direction === 'ASC' ? expected : [...expected].reverse();
      const got: unknown[] = [];
      let after: string | undefined;
      do {
        const page = catalog.listSeries({}, { field: 'SERIES_NUMBER', direction }, { first: 2, after }, { studyId });
        got.push(...page.edges.map((e) => [e.node.seriesNumber, e.node.id]));
        after = page.hasNextPage ? page.edges.at(-1)!.cursor : undefined;
      } while (after);
      expect(got).toEqual(want);
      const back: unknown[] = [];
      let before: string | undefined;
      do {
        const page = catalog.listSeries({}, { field: 'SERIES_NUMBER', direction }, { last: 3, before }, { studyId });
        back.unshift(...page.edges.map((e) => [e.node.seriesNumber, e.node.id]));
        before = page.hasPreviousPage ? page.edges[0]!.cursor : undefined;
      } while (before);
      expect(back).toEqual(want);
    }
  });

  it('rejects foreign, corrupt and mismatched cursors and bad page sizes', () => {
    const cursor = catalog.listStudies({}, byDate, { first: 1 }).edges[0]!.cursor;
    const lastUploaded = { field: 'LAST_UPLOADED_AT', direction: 'DESC' } as const;
    expect(() => catalog.listStudies({}, lastUploaded, { after: cursor })).toThrow(InvalidCursorError);
    expect(() => catalog.listPatients({}, { field: 'PATIENT_NAME', direction: 'ASC' }, { after: cursor })).toThrow(InvalidCursorError);
    expect(() => catalog.listStudies({}, byDate, { after: 'not a cursor!' })).toThrow(InvalidCursorError);
    expect(() => catalog.listStudies({}, byDate, { after: Buffer.from('["Study.date",1,2,3]').toString('base64url') })).toThrow(InvalidCursorError);
    expect(() => catalog.listStudies({}, byDate, { after: Buffer.from('{}').toString('base64url') })).toThrow(InvalidCursorError);
    expect(() => catalog.listStudies({}, byDate, { first: -1 })).toThrow(InvalidArgumentError);
    expect(() => catalog.listStudies({}, byDate, { first: 501 })).toThrow(InvalidArgumentError);
    expect(() => catalog.listStudies({}, byDate, { first: 1, last: 1 })).toThrow(InvalidArgumentError);
    // The direction is not part of a cursor: the same position, read the other way.
    const desc = catalog.listStudies({}, byDate, { first: 5 }).edges;
    const asc = catalog.listStudies({}, { field: 'STUDY_DATE', direction: 'ASC' }, { first: 3, after: desc[4]!.cursor });
    expect(asc.edges.map((e) => e.node.id)).toEqual([desc[3]!.node.id, desc[2]!.node.id, desc[1]!.node.id]);
  });

  it('answers first: 0 with no rows and the right hasNextPage', () => {
    const page = catalog.listStudies({}, byDate, { first: 0 });
    expect(page.edges).toEqual([]);
    expect(page.hasNextPage).toBe(true);
  });
});
