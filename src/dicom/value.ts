/**
 * Element → DICOM JSON model value (PS3.18 F.2) and a readable text form. Values arrive already
 * decoded (header.ts); this only shapes them for output.
 */
import type { DicomElement, PersonName } from './dataset.js';

/** VRs whose value is bulk data: no JSON "Value" (PS3.18 F.2.7 would use InlineBinary/BulkDataURI). */
export const BINARY_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);

function isPersonName(v: unknown): v is PersonName {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for a value that counts as empty inside a multi-valued element (PS3.18 F.2.5: null). */
function isEmpty(v: unknown): boolean {
  return v === '' || v === null || v === undefined || (isPersonName(v) && Object.keys(v).length === 0);
}

/**
 * The "Value" array of the DICOM JSON model (PS3.18 F.2): [] when present but empty, null for
 * binary VRs and SQ (their content is exposed elsewhere); empty values inside become null.
 */
export function jsonValue(element: DicomElement): unknown[] | null {
  if (element.vr === 'SQ' || BINARY_VRS.has(element.vr)) return null;
  return element.values.map((v) => {
    if (isEmpty(v)) return null;
    if (element.vr === 'PN' && typeof v === 'string') return { Alphabetic: v };
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return v;
  });
}

/** "Alphabetic=Ideographic=Phonetic" with empty trailing groups dropped (PS3.5 §6.2.1). */
export function personNameText(pn: PersonName | string): string {
  if (typeof pn === 'string') return pn;
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
  while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

/**
 * Readable text (PS3.5 §6.2 multi-value form): values joined with "\", PN in its group form,
 * "(OB, 1024 bytes)" for binary VRs, "(Sequence with 2 items)" for SQ; null when empty.
 */
export function displayText(element: DicomElement): string | null {
  if (element.vr === 'SQ') {
    const n = element.items?.length ?? 0;
    return `(Sequence with ${n} item${n === 1 ? '' : 's'})`;
  }
  if (BINARY_VRS.has(element.vr)) {
    const n = element.bytes?.length ?? element.length;
    return `(${element.vr}, ${n} byte${n === 1 ? '' : 's'})`;
  }
  if (element.values.length === 0) return null;
  return element.values
    .map((v) => {
      if (v === null || v === undefined) return '';
      if (element.vr === 'PN' && (isPersonName(v) || typeof v === 'string')) return personNameText(v);
      return String(v);
    })
    .join('\\');
}

/** Value Multiplicity as found (PS3.5 §6.4): values count; binary and SQ count as one value when non-empty. */
export function valueMultiplicity(element: DicomElement): number {
  if (element.vr === 'SQ') return (element.items?.length ?? 0) > 0 ? 1 : 0;
  if (BINARY_VRS.has(element.vr)) return (element.bytes?.length ?? element.length) > 0 ? 1 : 0;
  return element.values.length;
}
