/**
 * The in-memory model of a parsed DICOM data set (PS3.5 §7): elements in ascending tag order,
 * values already decoded (text per Specific Character Set, numbers as numbers).
 */

/** A DICOM JSON person name (PS3.18 F.2.2). */
export interface PersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export interface DicomElement {
  /** "GGGGEEEE", upper-case hex, as DICOM JSON keys are written. */
  readonly tag: string;
  /** VR as encoded in the file (explicit VR), else from the dictionary; "UN" when unknown. */
  readonly vr: string;
  /**
   * Decoded values: strings for text VRs (trailing padding removed), numbers for US, SS, UL, SL,
   * FL, FD, IS, DS (and US/SS/UL/SL…  multi-valued), PersonName for PN, "GGGGEEEE" for AT.
   * Empty for binary VRs (OB, OW, OF, OD, OL, OV, UN) and SQ.
   */
  readonly values: readonly unknown[];
  /** Items of an SQ element. */
  readonly items?: readonly DicomDataset[];
  /** Raw value bytes of binary VRs (in the data set's byte order), e.g. for LUT Data. */
  readonly bytes?: Uint8Array;
  /** Value length in bytes as found in the file (for SQ with undefined length: the bytes it spans). */
  readonly length: number;
}

export interface DicomDataset {
  /** The element with this "GGGGEEEE" tag, or undefined when absent. */
  get(tag: string): DicomElement | undefined;
  /** Every element, in ascending tag order. */
  readonly elements: readonly DicomElement[];
}

/** A DicomDataset over a list of elements (sorted here). */
export class ElementList implements DicomDataset {
  readonly elements: readonly DicomElement[];
  constructor(elements: Iterable<DicomElement>) {
    const list = [...elements];
    // files keep ascending tag order (PS3.5 §7.1): check before sorting (the sort is stable either way)
    if (!isSorted(list)) list.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    this.elements = list;
  }
  /** Binary search (no index to build: most item data sets of a parse are never looked into). */
  get(tag: string): DicomElement | undefined {
    // the last element whose tag is <= `tag`: a repeated tag resolves to its last occurrence
    const list = this.elements;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.tag <= tag) lo = mid + 1;
      else hi = mid;
    }
    const found = list[lo - 1];
    return found !== undefined && found.tag === tag ? found : undefined;
  }
}

function isSorted(list: readonly DicomElement[]): boolean {
  for (let i = 1; i < list.length; i++) if (list[i - 1]!.tag > list[i]!.tag) return false;
  return true;
}
