/**
 * The attributes indexed per stored instance (PS3.3 C.12.1 SOP Common, C.7.1.1 Patient,
 * C.7.2.1 General Study, C.7.3.1 General Series, C.7.6.1 General Image, C.7.6.3 Image Pixel).
 * Pure: a parsed data set in, plain values out.
 */
import type { DicomDataset, PersonName } from './dataset.js';

export interface InstanceSummary {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  patientId: string | null;
  /** Alphabetic group of (0010,0010) (else Ideographic, else Phonetic), trailing '^' removed. */
  patientName: string | null;
  /** (0010,0021): the authority that issued the Patient ID. */
  issuerOfPatientId: string | null;
  /** (0010,0030) as DA "YYYYMMDD"; null when absent or not a valid date. */
  patientBirthDate: string | null;
  /** (0010,0040): M, F or O (as written). */
  patientSex: string | null;
  studyInstanceUid: string | null;
  /** (0008,0020) as DA "YYYYMMDD"; null when absent or not a valid date. */
  studyDate: string | null;
  /** (0008,0030) TM as written ("HHMMSS.FFFFFF", leading components only allowed). */
  studyTime: string | null;
  /** (0008,1030). */
  studyDescription: string | null;
  /** (0008,0050). */
  accessionNumber: string | null;
  /** Alphabetic group of (0008,0090). */
  referringPhysicianName: string | null;
  seriesInstanceUid: string | null;
  modality: string | null;
  /** (0020,0011). */
  seriesNumber: number | null;
  /** (0008,103E). */
  seriesDescription: string | null;
  /** (0018,0015). */
  bodyPartExamined: string | null;
  /** (0020,0013). */
  instanceNumber: number | null;
  /** (0008,0023) as DA "YYYYMMDD"; null when absent or not a valid date. */
  contentDate: string | null;
  rows: number | null;
  columns: number | null;
  /** (0028,0008), or 1 for a file with pixel data and no Number of Frames. */
  numberOfFrames: number | null;
}

function first(dataset: DicomDataset, tag: string): unknown {
  return dataset.get(tag)?.values[0];
}

function text(dataset: DicomDataset, tag: string): string | null {
  const v = first(dataset, tag);
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number') return String(v);
  return null;
}

/** Text with leading and trailing spaces removed (insignificant for LO, SH, CS, TM; PS3.5 6.2). */
function trimmed(dataset: DicomDataset, tag: string): string | null {
  const v = text(dataset, tag)?.trim();
  return v ? v : null;
}

function whole(dataset: DicomDataset, tag: string): number | null {
  const v = first(dataset, tag);
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : null;
}

/**
 * The first non-empty group of a PN value, without trailing component delimiters and spaces,
 * which are not significant (PS3.5 6.2.1: "DOE^JOHN^^^" is "DOE^JOHN").
 */
function personName(dataset: DicomDataset, tag: string): string | null {
  const v = first(dataset, tag) as PersonName | string | undefined;
  const name = typeof v === 'string' ? v : v?.Alphabetic || v?.Ideographic || v?.Phonetic;
  return name?.replace(/[\s^]+$/, '') || null;
}

/**
 * A DA value (PS3.5 6.2) as "YYYYMMDD", or null when it is not one calendar date. The
 * "YYYY.MM.DD" form of ACR-NEMA (retired, still found in old files) is accepted and normalized.
 */
export function normalizeDicomDate(raw: string | null | undefined): string | null {
  const m = /^\s*(\d{4})\.?(\d{2})\.?(\d{2})\s*$/.exec(raw ?? '');
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return `${m[1]}${m[2]}${m[3]}`;
}

/** "YYYYMMDD" → "YYYY-MM-DD" (ISO 8601 calendar date); null stays null. */
export function dicomDateToIso(da: string | null): string | null {
  return da && /^\d{8}$/.test(da) ? `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}` : null;
}

/** Extracts the indexed attributes of an instance from its top-level data set. */
export function summarizeInstance(dataset: DicomDataset, hasPixelData: boolean): InstanceSummary {
  return {
    sopClassUid: text(dataset, '00080016'),
    sopInstanceUid: text(dataset, '00080018'),
    patientId: text(dataset, '00100020'),
    patientName: personName(dataset, '00100010'),
    issuerOfPatientId: trimmed(dataset, '00100021'),
    patientBirthDate: normalizeDicomDate(text(dataset, '00100030')),
    patientSex: trimmed(dataset, '00100040'),
    studyInstanceUid: text(dataset, '0020000D'),
    studyDate: normalizeDicomDate(text(dataset, '00080020')),
    studyTime: trimmed(dataset, '00080030'),
    studyDescription: trimmed(dataset, '00081030'),
    accessionNumber: trimmed(dataset, '00080050'),
    referringPhysicianName: personName(dataset, '00080090'),
    seriesInstanceUid: text(dataset, '0020000E'),
    modality: text(dataset, '00080060'),
    seriesNumber: whole(dataset, '00200011'),
    seriesDescription: trimmed(dataset, '0008103E'),
    bodyPartExamined: trimmed(dataset, '00180015'),
    instanceNumber: whole(dataset, '00200013'),
    contentDate: normalizeDicomDate(text(dataset, '00080023')),
    rows: whole(dataset, '00280010'),
    columns: whole(dataset, '00280011'),
    numberOfFrames: whole(dataset, '00280008') ?? (hasPixelData ? 1 : null),
  };
}
