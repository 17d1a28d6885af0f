/**
 * FROZEN REFERENCE, test-only: src/dicom/dataset.ts as it was before the lazy header parse (commit
 * 319de10). test/unit/dicom-parse-equivalence.test.ts checks that the fast parser gives the same
 * results and the same errors as this one. Do not change it to follow src/.
 */
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
  private readonly byTag: Map<string, DicomElement>;
  constructor(elements: Iterable<DicomElement>) {
    this.elements = [...elements].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    this.byTag = new Map(this.elements.map((e) => [e.tag, e]));
  }
  get(tag: string): DicomElement | undefined {
    return this.byTag.get(tag);
  }
}
