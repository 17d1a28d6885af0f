/** Small synthetic DICOM files with the catalog's identifying attributes (no pixel data). */
import { type BuildElement, buildDicom } from './dicom-builder.js';

export interface CatalogFileOptions {
  patientId?: string | null;
  issuer?: string;
  patientName?: string;
  birthDate?: string;
  sex?: string;
  studyUid?: string | null;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  accessionNumber?: string;
  referringPhysician?: string;
  seriesUid?: string | null;
  seriesNumber?: number;
  seriesDescription?: string;
  bodyPart?: string;
  modality?: string;
  sopUid?: string | null;
  sopClassUid?: string;
  instanceNumber?: number;
  contentDate?: string;
  /** Makes otherwise identical files differ in bytes (a new version of the same instance). */
  revision?: string;
}

export const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

export function catalogFile(o: CatalogFileOptions = {}): Buffer {
  const sopUid = o.sopUid === undefined ? '1.2.3.4' : o.sopUid;
  const sopClass = o.sopClassUid ?? CT_IMAGE;
  const elements: BuildElement[] = [
    { tag: '00080016', vr: 'UI', value: sopClass },
    ...(sopUid !== null ? [{ tag: '00080018', vr: 'UI', value: sopUid }] : []),
    ...(o.studyDate ? [{ tag: '00080020', vr: 'DA', value: o.studyDate }] : []),
    ...(o.contentDate ? [{ tag: '00080023', vr: 'DA', value: o.contentDate }] : []),
    ...(o.studyTime ? [{ tag: '00080030', vr: 'TM', value: o.studyTime }] : []),
    ...(o.accessionNumber ? [{ tag: '00080050', vr: 'SH', value: o.accessionNumber }] : []),
    { tag: '00080060', vr: 'CS', value: o.modality ?? 'CT' },
    ...(o.referringPhysician ? [{ tag: '00080090', vr: 'PN', value: o.referringPhysician }] : []),
    ...(o.studyDescription ? [{ tag: '00081030', vr: 'LO', value: o.studyDescription }] : []),
    ...(o.seriesDescription ? [{ tag: '0008103E', vr: 'LO', value: o.seriesDescription }] : []),
    ...(o.patientName !== undefined ? [{ tag: '00100010', vr: 'PN', value: o.patientName }] : []),
    ...(o.patientId !== null ? [{ tag: '00100020', vr: 'LO', value: o.patientId ?? 'PID-1' }] : []),
    ...(o.issuer ? [{ tag: '00100021', vr: 'LO', value: o.issuer }] : []),
    ...(o.birthDate ? [{ tag: '00100030', vr: 'DA', value: o.birthDate }] : []),
    ...(o.sex ? [{ tag: '00100040', vr: 'CS', value: o.sex }] : []),
    ...(o.bodyPart ? [{ tag: '00180015', vr: 'CS', value: o.bodyPart }] : []),
    ...(o.studyUid !== null ? [{ tag: '0020000D', vr: 'UI', value: o.studyUid ?? '1.2.3' }] : []),
    ...(o.seriesUid !== null ? [{ tag: '0020000E', vr: 'UI', value: o.seriesUid ?? '1.2.3.1' }] : []),
    ...(o.seriesNumber !== undefined ? [{ tag: '00200011', vr: 'IS', value: String(o.seriesNumber) }] : []),
    ...(o.instanceNumber !== undefined ? [{ tag: '00200013', vr: 'IS', value: String(o.instanceNumber) }] : []),
    ...(o.revision ? [{ tag: '00204000', vr: 'LT', value: o.revision }] : []),
  ];
  return buildDicom({ meta: { sopClassUid: sopClass, sopInstanceUid: sopUid ?? '9.9.9' }, elements });
}
