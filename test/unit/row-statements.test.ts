/**
 * The upload path's prepared statements (src/storage/row-statements.ts) store and return rows
 * exactly as drizzle's query builder did: the same values in the database (timestamps as ms,
 * booleans 0/1, null kept null — drizzle's placeholders would have stored a null boolean as 0)
 * and the same row objects back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, getTableColumns } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import { prepareInsert, prepareUpdateById } from '../../src/storage/row-statements.js';
import { dicomFiles, type NewDicomFileRow, patients } from '../../src/storage/schema.js';

let dir: string;
let database: OpenDatabase;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-row-statements-'));
  database = openDatabase(dir);
});
afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const rawRow = (table: string, id: string | number) => database.db.$client.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(id);

function fileValues(id: string, o: Partial<NewDicomFileRow> = {}): NewDicomFileRow {
  return {
    id,
    ownerRef: 1,
    sha256: id.padStart(64, '0'),
    filename: 'a.dcm',
    byteSize: 10,
    uploadedAt: new Date(1_700_000_000_123),
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    sopInstanceUid: `1.2.${id}`,
    patientName: 'Doe^J',
    rows: 512,
    hasPixelData: true,
    pixelDataEncapsulated: null,
    headerEnd: 100,
    isCurrent: true,
    ...o,
  };
}

describe('prepareInsert', () => {
  const keys = Object.keys(getTableColumns(dicomFiles)) as (keyof NewDicomFileRow & string)[];

  it('stores and returns the same row as drizzle insert().returning()', () => {
    const insert = prepareInsert(database.db.$client, dicomFiles, keys);
    for (const o of [{}, { pixelDataEncapsulated: false, hasPixelData: false }, { pixelDataEncapsulated: true, rows: null, patientName: undefined }] as Partial<NewDicomFileRow>[]) {
      const n = Math.random().toString(36).slice(2);
      const ours = insert(fileValues(`a${n}`, o));
      const theirs = database.db.insert(dicomFiles).values(fileValues(`b${n}`, o)).returning().get();
      expect({ ...ours, id: '', sha256: '', sopInstanceUid: '' }).toStrictEqual({ ...theirs, id: '', sha256: '', sopInstanceUid: '' });
      const stored = (id: string) => ({ ...(rawRow('dicom_files', id) as object), id: '', sha256: '', sop_instance_uid: '' });
      expect(stored(`a${n}`)).toStrictEqual(stored(`b${n}`));
      expect(ours).toStrictEqual(database.db.select().from(dicomFiles).where(eq(dicomFiles.id, `a${n}`)).get());
    }
    // A null boolean stays null (not 0), a timestamp is stored in ms.
    expect(rawRow('dicom_files', (insert(fileValues('c')) as { id: string }).id)).toMatchObject({ pixel_data_encapsulated: null, has_pixel_data: 1, uploaded_at: 1_700_000_000_123 });
  });

  it('refuses undefined for a column with a default (drizzle would have stored the default)', () => {
    const insert = prepareInsert(database.db.$client, dicomFiles, keys);
    expect(() => insert({ ...fileValues('d'), uploadedAt: undefined })).toThrow(/uploadedAt: a value is required/);
  });

  it('leaves columns it does not list to their SQL defaults', () => {
    const insert = prepareInsert(database.db.$client, patients, ['ownerRef', 'patientId', 'firstUploadedAt', 'lastUploadedAt']);
    const at = new Date(1_700_000_000_000);
    const row = insert({ ownerRef: 1, patientId: 'P', firstUploadedAt: at, lastUploadedAt: at });
    expect(row).toStrictEqual(database.db.select().from(patients).where(eq(patients.id, row.id)).get());
    expect(row).toMatchObject({ issuer: '', unknownScope: '', patientName: null, patientNameSort: '', studyCount: 0, instanceCount: 0, firstUploadedAt: at });
  });
});

describe('prepareUpdateById', () => {
  it('writes what drizzle update().set() wrote, nulls included', () => {
    const at = new Date(1_700_000_000_000);
    const insert = prepareInsert(database.db.$client, patients, ['ownerRef', 'patientId', 'patientName', 'birthDate', 'firstUploadedAt', 'lastUploadedAt']);
    const a = insert({ ownerRef: 1, patientId: 'A', patientName: 'X', birthDate: '2000', firstUploadedAt: at, lastUploadedAt: at });
    const b = insert({ ownerRef: 1, patientId: 'B', patientName: 'X', birthDate: '2000', firstUploadedAt: at, lastUploadedAt: at });
    const values = { patientName: 'Y', birthDate: null, sex: 'F', lastUploadedAt: new Date(1_700_000_009_999) };
    prepareUpdateById(database.db.$client, patients, ['patientName', 'birthDate', 'sex', 'lastUploadedAt'])(a.id, values);
    database.db.update(patients).set(values).where(eq(patients.id, b.id)).run();
    expect({ ...(rawRow('patients', a.id) as object), id: 0, patient_id: '' }).toStrictEqual({ ...(rawRow('patients', b.id) as object), id: 0, patient_id: '' });
  });
});

describe('insertFile with prepared statements', () => {
  it('returns the row as stored, and keeps the catalog consistent through versions, names and new parents', () => {
    const root = new DicomFileRepository(database.db);
    const files = root.forOwner(1);
    const base = { filename: 'f.dcm', byteSize: 1, hasPixelData: false, headerEnd: 1, patientId: 'P', studyInstanceUid: '1', seriesInstanceUid: '1.1' };
    /** Each returned row is the stored one at that moment. */
    const insert = (row: Parameters<typeof files.insertOrGetExisting>[0]) => {
      const result = files.insertOrGetExisting(row);
      expect(result.file).toStrictEqual(files.findById(result.file.id));
      return result;
    };
    const inserted = [
      insert({ ...base, id: 'f1', sha256: '1'.repeat(64), sopInstanceUid: '1.1.1', patientName: 'A^B', modality: 'CT', uploadedAt: new Date(1000) }),
      insert({ ...base, id: 'f2', sha256: '2'.repeat(64), sopInstanceUid: '1.1.1', patientName: 'A^C', uploadedAt: new Date(2000) }),
      insert({ ...base, id: 'f3', sha256: '3'.repeat(64), sopInstanceUid: '1.1.2', seriesInstanceUid: '1.2', modality: 'MR', uploadedAt: new Date(3000) }),
      insert({ ...base, id: 'f4', sha256: '4'.repeat(64), patientId: 'Q', studyDate: '20240101', seriesDescription: 'S', uploadedAt: new Date(4000) }),
      insert({ ...base, id: 'f5', sha256: '4'.repeat(64), uploadedAt: new Date(5000) }),
    ];
    expect(inserted.map((r) => r.duplicate)).toEqual([false, false, false, false, true]);
    expect(files.findById('f1')?.isCurrent).toBe(false);
    expect(files.findById('f2')?.isCurrent).toBe(true);
    expect(root.catalog.checkConsistency()).toEqual([]);
    const patient = files.catalog.patient(inserted[0]!.file.patientRef!)!;
    expect(patient).toMatchObject({ patientName: 'A^C', studyCount: 1, instanceCount: 2, lastUploadedAt: new Date(3000) });
    expect(files.catalog.otherPatientNames(patient)).toEqual(['A^B']);
    expect(files.catalog.study(inserted[0]!.file.studyRef!)).toMatchObject({ modalities: 'CT\\MR', seriesCount: 2, instanceCount: 2 });
    expect(files.catalog.series(inserted[1]!.file.seriesRef!)).toMatchObject({ modality: 'CT', instanceCount: 1, lastUploadedAt: new Date(2000) });
  });
});
