/** Pure helpers of the catalog: DA dates, the indexed instance summary, wildcard matching. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ElementList } from '../../src/dicom/dataset.js';
import { dicomDateToIso, normalizeDicomDate, summarizeInstance } from '../../src/dicom/instance-summary.js';
import { prefixUpperBound } from '../../src/storage/catalog-filters.js';
import { openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';

describe('DA dates (PS3.5 6.2)', () => {
  it('accepts YYYYMMDD and the retired YYYY.MM.DD form, and only calendar dates', () => {
    expect(normalizeDicomDate('20240229')).toBe('20240229');
    expect(normalizeDicomDate(' 1999.12.31 ')).toBe('19991231');
    for (const bad of ['20230229', '20241301', '2024010', '2024-01-01', '', null, undefined, '00000101', '19990100']) {
      expect(normalizeDicomDate(bad), String(bad)).toBeNull();
    }
    expect(dicomDateToIso('20240229')).toBe('2024-02-29');
    expect(dicomDateToIso(null)).toBeNull();
  });
});

describe('summarizeInstance', () => {
  it('indexes the patient, study, series and instance attributes', () => {
    const ds = new ElementList([
      { tag: '00080016', vr: 'UI', values: ['1.2.840.10008.5.1.4.1.1.2'], length: 0 },
      { tag: '00080018', vr: 'UI', values: ['1.2.3.4'], length: 0 },
      { tag: '00080020', vr: 'DA', values: ['20240115'], length: 0 },
      { tag: '00080023', vr: 'DA', values: ['2024.01.16'], length: 0 },
      { tag: '00080030', vr: 'TM', values: ['101500.25 '], length: 0 },
      { tag: '00080050', vr: 'SH', values: [' ACC9 '], length: 0 },
      { tag: '00080060', vr: 'CS', values: ['CT'], length: 0 },
      { tag: '00080090', vr: 'PN', values: [{ Alphabetic: 'House^Gregory^^^' }], length: 0 },
      { tag: '00081030', vr: 'LO', values: ['CT HEAD'], length: 0 },
      { tag: '0008103E', vr: 'LO', values: ['AXIAL 5mm'], length: 0 },
      { tag: '00100010', vr: 'PN', values: [{ Alphabetic: 'DOE^JOHN^^^', Ideographic: '土井^ジョン' }], length: 0 },
      { tag: '00100020', vr: 'LO', values: ['PID'], length: 0 },
      { tag: '00100021', vr: 'LO', values: ['HOSP'], length: 0 },
      { tag: '00100030', vr: 'DA', values: ['19700231'], length: 0 },
      { tag: '00100040', vr: 'CS', values: ['M'], length: 0 },
      { tag: '00180015', vr: 'CS', values: ['HEAD'], length: 0 },
      { tag: '0020000D', vr: 'UI', values: ['1.2.3'], length: 0 },
      { tag: '0020000E', vr: 'UI', values: ['1.2.3.1'], length: 0 },
      { tag: '00200011', vr: 'IS', values: [3], length: 0 },
      { tag: '00200013', vr: 'IS', values: [17], length: 0 },
    ]);
    expect(summarizeInstance(ds, false)).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3.4',
      patientId: 'PID',
      patientName: 'DOE^JOHN',
      issuerOfPatientId: 'HOSP',
      patientBirthDate: null, // 31 February
      patientSex: 'M',
      studyInstanceUid: '1.2.3',
      studyDate: '20240115',
      studyTime: '101500.25',
      studyDescription: 'CT HEAD',
      accessionNumber: 'ACC9',
      referringPhysicianName: 'House^Gregory',
      seriesInstanceUid: '1.2.3.1',
      modality: 'CT',
      seriesNumber: 3,
      seriesDescription: 'AXIAL 5mm',
      bodyPartExamined: 'HEAD',
      instanceNumber: 17,
      contentDate: '20240116',
      rows: null,
      columns: null,
      numberOfFrames: null,
    });
  });
});

describe('wildcard matching', () => {
  it('bounds a prefix range by incrementing its last character', () => {
    expect(prefixUpperBound('DOE')).toBe('DOF');
    expect(prefixUpperBound('MÜ')).toBe('MÝ');
    expect(prefixUpperBound('A\u{d7ff}')).toBeUndefined();
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('😀')).toBe('😁');
  });

  it('matches * and ? case-insensitively, everything else literally', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomql-wild-'));
    const database = openDatabase(dir);
    try {
      const files = new DicomFileRepository(database.db).forOwner(1);
      const names = ['Müller^Hans', 'MUELLER^HANS', 'O[Brien]^Pat', '100%_Sure^X', 'Doe^John', 'Doe^Jon', 'Zoë^Ωmega'];
      names.forEach((patientName, i) =>
        files.insertOrGetExisting({
          id: `w${i}`,
          sha256: String(i).padStart(64, '0'),
          filename: 'w.dcm',
          byteSize: 1,
          hasPixelData: false,
          headerEnd: 1,
          patientId: `W${i}`,
          patientName,
          studyInstanceUid: `9.${i}`,
        }),
      );
      const match = (pattern: string) =>
        files.catalog
          .listPatients({ patientName: pattern }, { field: 'PATIENT_NAME', direction: 'ASC' }, {})
          .edges.map((e) => e.node.patientName)
          .sort();
      expect(match('müller*')).toEqual(['Müller^Hans']);
      expect(match('M*LLER^HANS')).toEqual(['MUELLER^HANS', 'Müller^Hans'].sort());
      expect(match('o[brien]*')).toEqual(['O[Brien]^Pat']);
      expect(match('100%_*')).toEqual(['100%_Sure^X']);
      expect(match('1_0*')).toEqual([]);
      expect(match('doe^jo?n')).toEqual(['Doe^John']);
      expect(match('doe^jo?')).toEqual(['Doe^Jon']);
      expect(match('DOE^JOHN')).toEqual(['Doe^John']);
      expect(match('doe')).toEqual([]);
      expect(match('*ΩMEGA')).toEqual(['Zoë^Ωmega']);
      expect(match('*')).toHaveLength(names.length);
    } finally {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
