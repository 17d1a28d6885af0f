/**
 * A whole header in the DICOM JSON Model (PS3.18 F.2): an object keyed by "GGGGEEEE", each
 * attribute `{ vr, Value }`, `{ vr, InlineBinary }` or `{ vr, BulkDataURI }`, or `{ vr }` alone
 * when empty (F.2.2, F.2.5). Pure: bytes (or an already parsed header) in, JSON out; where bulk
 * data can be fetched is the caller's (the URI builder is injected).
 *
 * - Value: strings; numbers for IS, DS, US, SS, UL, SL, FL, FD, SV, UV (F.2.3.1; a DS/IS that is
 *   not a number stays a string, a 64-bit value beyond 2^53 a decimal string, a non-finite float
 *   "NaN" / "Infinity" / "-Infinity"); person names as {Alphabetic, Ideographic, Phonetic}
 *   (F.2.2); AT as "GGGGEEEE"; sequences as arrays of nested objects (F.2.6); an empty value
 *   inside a multi-valued element as null (F.2.5).
 * - Binary VRs (OB, OD, OF, OL, OV, OW, UN) up to `inlineBinaryMaxBytes` are InlineBinary
 *   (base64, F.2.7); longer ones, and Pixel Data, are BulkDataURI (F.2.6). Binary values are given
 *   in little endian byte order (PS3.18's default, explicit VR little endian): words of OW, OF,
 *   OL, OD, OV from a big endian data set are swapped.
 * - Bulk data paths: the tags and 0-based item indexes that lead to the element, e.g.
 *   ["7FE00010"] or ["00880200", 0, "7FE00010"] (Pixel Data of the first icon image).
 */
import type { ByteSource } from './byte-source.js';
import type { DicomDataset, DicomElement } from './dataset.js';
import { type DicomHeader, parseHeader } from './header.js';
import { BINARY_VRS, jsonValue } from './value.js';

export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

export type DicomJsonObject = Record<string, DicomJsonAttribute>;

/** Tags and 0-based item indexes from the top-level data set to an element. */
export type BulkDataPath = readonly (string | number)[];

export interface DicomJsonOptions {
  /** The URI a client fetches the element's value bytes from. */
  readonly bulkDataUri: (path: BulkDataPath) => string;
  /** Binary values longer than this many bytes are given as BulkDataURI (default 1024). */
  readonly inlineBinaryMaxBytes?: number;
  /** Byte order of the data set (default little endian); big endian words are swapped to little endian. */
  readonly littleEndian?: boolean;
}

export const DEFAULT_INLINE_BINARY_MAX_BYTES = 1024;

const PIXEL_DATA = '7FE00010';

/** Bytes per word of each binary VR whose words have a byte order (PS3.5 Table 6.2-1). */
const WORD_SIZE: Readonly<Record<string, number>> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

/** `bytes` in little endian order: a copy with each `vr` word reversed when the data set is big endian. */
export function littleEndianBytes(bytes: Uint8Array, vr: string, littleEndian: boolean): Uint8Array {
  const size = WORD_SIZE[vr];
  if (littleEndian || !size) return bytes;
  const out = new Uint8Array(bytes.length);
  const whole = bytes.length - (bytes.length % size);
  for (let i = 0; i < whole; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  out.set(bytes.subarray(whole), whole);
  return out;
}

function numberValue(v: unknown): unknown {
  if (typeof v !== 'number' || Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function attribute(element: DicomElement, path: BulkDataPath, options: DicomJsonOptions): DicomJsonAttribute {
  const { vr } = element;
  if (vr === 'SQ' || element.items) {
    const items = element.items ?? [];
    return items.length === 0 ? { vr: 'SQ' } : { vr: 'SQ', Value: items.map((item, i) => datasetToDicomJson([item], options, [...path, i])) };
  }
  if (BINARY_VRS.has(vr)) {
    const bytes = element.bytes;
    const max = options.inlineBinaryMaxBytes ?? DEFAULT_INLINE_BINARY_MAX_BYTES;
    // Pixel Data always by reference; bytes not in the header (length only) too.
    if ((path.length === 1 && element.tag === PIXEL_DATA) || (!bytes && element.length > 0) || (bytes && bytes.length > max)) {
      return { vr, BulkDataURI: options.bulkDataUri(path) };
    }
    if (!bytes || bytes.length === 0) return { vr };
    return { vr, InlineBinary: Buffer.from(littleEndianBytes(bytes, vr, options.littleEndian ?? true)).toString('base64') };
  }
  const values = jsonValue(element) ?? [];
  return values.length === 0 ? { vr } : { vr, Value: values.map(numberValue) };
}

/**
 * The DICOM JSON object of one or more data sets merged (e.g. file meta, then the data set), in
 * ascending tag order. `path` is where these data sets sit (for nested items' bulk data URIs).
 */
export function datasetToDicomJson(datasets: readonly DicomDataset[], options: DicomJsonOptions, path: BulkDataPath = []): DicomJsonObject {
  const elements = datasets.flatMap((ds) => ds.elements).sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const out: DicomJsonObject = {};
  for (const el of elements) {
    if (el.tag in out) continue; // the first data set wins (file meta before the data set)
    out[el.tag] = attribute(el, [...path, el.tag], options);
  }
  return out;
}

/**
 * A parsed header (file meta and every element before Pixel Data) and the top-level Pixel Data
 * element, if any, as a DICOM JSON object (PS3.18 F.2); file meta (group 0002) included.
 */
export function headerToDicomJson(header: DicomHeader, pixelData: { readonly vr: string; readonly length: number } | null, options: DicomJsonOptions): DicomJsonObject {
  const sets: DicomDataset[] = [header.meta, header.dataset];
  const json = datasetToDicomJson(sets, { ...options, littleEndian: options.littleEndian ?? header.structure.transferSyntax.littleEndian });
  if (pixelData) json[PIXEL_DATA] = { vr: pixelData.vr, BulkDataURI: options.bulkDataUri([PIXEL_DATA]) };
  return json;
}

/** The DICOM JSON object of a whole DICOM file (PS3.10) read from `source` (header only; Pixel Data by reference). */
export function dicomJson(source: ByteSource, options: DicomJsonOptions): DicomJsonObject {
  const header = parseHeader(source);
  const px = header.structure.pixelData;
  return headerToDicomJson(header, px ? { vr: px.vr, length: px.length ?? 0 } : null, options);
}

/** "GGGGEEEE/0/GGGGEEEE…" → a bulk data path, or null when malformed (at most 32 levels). */
export function parseBulkDataPath(text: string): BulkDataPath | null {
  const parts = text.split('/');
  if (parts.length % 2 === 0 || parts.length > 65) return null;
  const path: (string | number)[] = [];
  for (const [i, p] of parts.entries()) {
    if (i % 2 === 0) {
      if (!/^[0-9A-Fa-f]{8}$/.test(p)) return null;
      path.push(p.toUpperCase());
    } else {
      if (!/^\d{1,9}$/.test(p)) return null;
      path.push(Number(p));
    }
  }
  return path;
}

/** The element a bulk data path names in the data sets (file meta first), or undefined. */
export function findByPath(datasets: readonly DicomDataset[], path: BulkDataPath): DicomElement | undefined {
  let sets = datasets;
  let element: DicomElement | undefined;
  for (let i = 0; i < path.length; i += 2) {
    const tag = path[i] as string;
    element = undefined;
    for (const ds of sets) {
      element = ds.get(tag);
      if (element) break;
    }
    if (!element) return undefined;
    if (i + 1 < path.length) {
      const item = element.items?.[path[i + 1] as number];
      if (!item) return undefined;
      sets = [item];
    }
  }
  return element;
}
