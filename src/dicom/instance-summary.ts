/**
 * The few attributes indexed per stored instance (PS3.3 C.12.1 SOP Common, C.7.1.1 Patient,
 * C.7.2.1 General Study, C.7.3.1 General Series, C.7.6.3 Image Pixel).
 */
import type { DicomDataset, PersonName } from './dataset.js';

export interface InstanceSummary {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  patientId: string | null;
  /** Alphabetic group of (0010,0010). */
  patientName: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  modality: string | null;
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

function whole(dataset: DicomDataset, tag: string): number | null {
  const v = first(dataset, tag);
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : null;
}

function personName(dataset: DicomDataset, tag: string): string | null {
  const v = first(dataset, tag) as PersonName | string | undefined;
  if (typeof v === 'string') return v || null;
  return v?.Alphabetic || v?.Ideographic || v?.Phonetic || null;
}

/** Extracts the indexed attributes of an instance from its top-level data set. */
export function summarizeInstance(dataset: DicomDataset, hasPixelData: boolean): InstanceSummary {
  return {
    sopClassUid: text(dataset, '00080016'),
    sopInstanceUid: text(dataset, '00080018'),
    patientId: text(dataset, '00100020'),
    patientName: personName(dataset, '00100010'),
    studyInstanceUid: text(dataset, '0020000D'),
    seriesInstanceUid: text(dataset, '0020000E'),
    modality: text(dataset, '00080060'),
    rows: whole(dataset, '00280010'),
    columns: whole(dataset, '00280011'),
    numberOfFrames: whole(dataset, '00280008') ?? (hasPixelData ? 1 : null),
  };
}
