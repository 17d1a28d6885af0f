/**
 * FROZEN REFERENCE, test-only: src/dicom/scan.ts as it was before the lazy header parse (commit
 * 319de10). test/unit/dicom-parse-equivalence.test.ts checks that the fast parser gives the same
 * results and the same errors as this one. Do not change it to follow src/.
 */
/**
 * The structural walk: validates the whole byte stream of a DICOM file (PS3.10 §7, PS3.5 §7) and
 * locates the data set and the top-level Pixel Data, reading only element headers (values are
 * skipped by offset, so a 1 GiB file costs a few thousand small reads). dcmjs clamps lengths and
 * happily "parses" truncated files; this walk is what decides whether a file is valid.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import { InvalidDicomError } from '../../../src/errors.js';
import { BufferByteSource, type ByteSource } from '../../../src/dicom/byte-source.js';
import { implicitVr } from '../../../src/dicom/dictionary.js';
import {
  EXPLICIT_VR_BIG_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  type TransferSyntax,
  findTransferSyntax,
  transferSyntaxOrFallback,
} from '../../../src/dicom/transfer-syntax.js';

/** Where the pixel data lives, in data-set space (see DicomStructure.dataset). */
export interface PixelDataLocation {
  /** VR of (7FE0,0010) as encoded (OB/OW; implicit VR: "OW" unless encapsulated). */
  readonly vr: string;
  /** Offset of the first value byte (native) or of the first item tag (encapsulated). */
  readonly valueOffset: number;
  /** Value length for native pixel data; null for encapsulated (undefined length). */
  readonly length: number | null;
  /** Encapsulated only: Basic Offset Table entries (may be empty) and each fragment's value bytes. */
  readonly offsetTable?: readonly number[];
  readonly fragments?: readonly { readonly offset: number; readonly length: number }[];
}

export interface DicomStructure {
  /** 128-byte preamble + "DICM" followed by the meta group (or directly by a data set). */
  readonly hasPreamble: boolean;
  /** A file meta group (0002,xxxx) is present (it may lack (0002,0010)). */
  readonly hasFileMeta: boolean;
  /** (0002,0010) as written, or null without file meta. */
  readonly declaredTransferSyntaxUid: string | null;
  /** The encoding the data set is actually read with (detected for bare data sets). */
  readonly transferSyntax: TransferSyntax;
  /** Offset in the file of the first data set element (after preamble and meta). */
  readonly datasetOffset: number;
  /**
   * Bytes [0, headerEnd) of the file hold the meta and every element before top-level Pixel Data
   * (the whole file when there is no pixel data, or when the data set is deflated).
   */
  readonly headerEnd: number;
  /** Top-level (7FE0,0010), or null when absent. */
  readonly pixelData: PixelDataLocation | null;
}

export interface ScanOptions {
  /** Cap on the inflated size of a deflated data set (default 512 MiB): deflate bombs. */
  maxInflatedBytes?: number;
  /** Cap on sequence nesting (default 64): crafted files nest 10^4+ levels. */
  maxDepth?: number;
  /**
   * Largest inflated/deflated size ratio of a deflated data set that inflates past 1 MiB (default:
   * none). A 194 KB deflate bomb inflates to 200 MB (1000:1); real deflated data sets stay far below.
   */
  maxInflateRatio?: number;
}

export const DEFAULT_MAX_INFLATED_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
/** More fragments than this in one Pixel Data element is a crafted file, not an image. */
const MAX_FRAGMENTS = 1 << 20;

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIMITER = 0xfffee00d;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
const TRANSFER_SYNTAX_UID = 0x00020010;

/** Every VR of PS3.5 Table 6.2-1. */
const VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);
/** Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** True when the two bytes are one of the PS3.5 VRs. */
export function isVr(b0: number | undefined, b1: number | undefined): boolean {
  if (b0 === undefined || b1 === undefined) return false;
  return VRS.has(String.fromCharCode(b0, b1));
}

/** "(GGGG,EEEE)" of a numeric tag, for messages. */
export function tagText(tag: number): string {
  const h = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}
const IMPLICIT_LE: Encoding = { explicitVr: false, littleEndian: true };

interface ElementHeader {
  readonly offset: number;
  readonly tag: number;
  /** As encoded (explicit), from the dictionary (implicit), "" for item/delimiter tags. */
  readonly vr: string;
  readonly length: number;
  readonly valueOffset: number;
}

/** Walk state: one per data set space (the file, or the inflated data set). */
interface Walk {
  readonly source: ByteSource;
  /** Added to offsets in messages (the data set's offset in the file), or null for inflated bytes. */
  readonly fileOffset: number | null;
  readonly maxDepth: number;
  pixelData: PixelDataLocation | null;
  pixelDataTagOffset: number | null;
}

function where(w: Walk, offset: number): string {
  return w.fileOffset === null ? `offset ${offset} of the inflated data set` : `offset ${offset + w.fileOffset}`;
}

function endText(w: Walk): string {
  return w.fileOffset === null ? 'the inflated data set ends' : 'the file ends';
}

function u16(b: Uint8Array, i: number, little: boolean): number {
  return little ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number, little: boolean): number {
  return little
    ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
    : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Reads the element header at `offset`, which must end at or before `limit`. */
function readHeader(w: Walk, enc: Encoding, offset: number, limit: number): ElementHeader {
  const head = w.source.read(offset, Math.min(12, Math.max(0, limit - offset)));
  if (head.length < 8) {
    throw new InvalidDicomError(
      `truncated: element header at ${where(w, offset)} needs 8 bytes but ${endText(w)} after ${head.length}`,
    );
  }
  const little = enc.littleEndian;
  const tag = ((u16(head, 0, little) << 16) | u16(head, 2, little)) >>> 0;
  if (tag >>> 16 === 0xfffe || !enc.explicitVr) {
    // item and delimiter tags never carry a VR (PS3.5 §7.5)
    const length = u32(head, 4, little);
    return { offset, tag, vr: tag >>> 16 === 0xfffe ? '' : implicitVr(tag, length), length, valueOffset: offset + 8 };
  }
  const vr = String.fromCharCode(head[4]!, head[5]!);
  if (!VRS.has(vr)) {
    throw new InvalidDicomError(
      `not a valid data set: element ${tagText(tag)} at ${where(w, offset)} has an invalid VR ${JSON.stringify(vr)}`,
    );
  }
  if (LONG_VRS.has(vr)) {
    if (head.length < 12) {
      throw new InvalidDicomError(
        `truncated: element header ${tagText(tag)} at ${where(w, offset)} needs 12 bytes but ${endText(w)} after ${head.length}`,
      );
    }
    return { offset, tag, vr, length: u32(head, 8, little), valueOffset: offset + 12 };
  }
  return { offset, tag, vr, length: u16(head, 6, little), valueOffset: offset + 8 };
}

function truncatedValue(w: Walk, h: ElementHeader, limit: number, what = 'element'): InvalidDicomError {
  return new InvalidDicomError(
    `truncated: ${what} ${tagText(h.tag)} at ${where(w, h.offset)} declares ${h.length} bytes but ${endText(w)} after ${Math.max(0, limit - h.valueOffset)}`,
  );
}

function overrun(w: Walk, h: ElementHeader, limit: number): InvalidDicomError {
  return new InvalidDicomError(
    `not a valid data set: element ${tagText(h.tag)} at ${where(w, h.offset)} declares ${h.length} bytes, past the end of its enclosing item or sequence at ${where(w, limit)}`,
  );
}

/**
 * Walks the elements of one data set (top level or item) from `offset`. Without `untilDelimiter`
 * it ends exactly at `limit`; with it, at the item delimiter. Returns the offset after the last
 * byte consumed. `atEnd` tells whether `limit` is the end of the whole space (for messages).
 */
function walkElements(
  w: Walk,
  enc: Encoding,
  offset: number,
  limit: number,
  atEnd: boolean,
  untilDelimiter: boolean,
  depth: number,
): number {
  let pos = offset;
  for (;;) {
    if (pos >= limit) {
      if (untilDelimiter) {
        throw new InvalidDicomError(
          atEnd
            ? `truncated: an item with undefined length that started before ${where(w, offset)} has no item delimiter (${endText(w)})`
            : `not a valid data set: an item with undefined length at ${where(w, offset)} runs past its enclosing sequence`,
        );
      }
      return pos;
    }
    const h = readHeader(w, enc, pos, limit);
    if (h.tag >>> 16 === 0xfffe) {
      if (h.tag === ITEM_DELIMITER && untilDelimiter) return h.valueOffset;
      if (h.tag === ITEM && h.length !== UNDEFINED_LENGTH) {
        // an item whose sequence header is missing (seen in real files, e.g. fo-dicom GH364):
        // tolerated like pydicom does, but its content must still be a valid data set
        const end = h.valueOffset + h.length;
        if (end > limit) throw atEnd ? truncatedValue(w, h, limit, 'item') : overrun(w, h, limit);
        if (depth + 1 > w.maxDepth) throw new InvalidDicomError(`not a valid data set: sequences nested deeper than ${w.maxDepth} levels`);
        walkElements(w, enc, h.valueOffset, end, false, false, depth + 1);
        pos = end;
        continue;
      }
      throw new InvalidDicomError(`not a valid data set: unexpected ${tagText(h.tag)} at ${where(w, pos)}`);
    }
    if (depth === 0 && h.tag === PIXEL_DATA && w.pixelData === null) w.pixelDataTagOffset = pos;
    pos = walkValue(w, enc, h, limit, atEnd, depth);
  }
}

/** Skips (or, for sequences and encapsulated data, walks) one element's value; returns the offset after it. */
function walkValue(w: Walk, enc: Encoding, h: ElementHeader, limit: number, atEnd: boolean, depth: number): number {
  const top = depth === 0 && h.tag === PIXEL_DATA && w.pixelDataTagOffset === h.offset;
  if (h.length === UNDEFINED_LENGTH) {
    // Pixel Data of undefined length is encapsulated whatever VR a converter gave it (OB, OW, UN)
    if (h.tag === PIXEL_DATA) return walkFragments(w, enc, h, limit, atEnd, top);
    if (h.vr === 'SQ') return walkSequence(w, enc, h, limit, atEnd, true, depth + 1);
    if (h.vr === 'UN') return walkSequence(w, IMPLICIT_LE, h, limit, atEnd, true, depth + 1); // CP-246
    if (h.vr === 'OB' || h.vr === 'OW') return walkFragments(w, enc, h, limit, atEnd, top);
    throw new InvalidDicomError(
      `not a valid data set: element ${tagText(h.tag)} at ${where(w, h.offset)} has undefined length but VR ${h.vr}`,
    );
  }
  const end = h.valueOffset + h.length;
  if (end > limit) throw atEnd ? truncatedValue(w, h, limit) : overrun(w, h, limit);
  if (h.vr === 'SQ') walkSequence(w, enc, h, end, false, false, depth + 1);
  if (top) w.pixelData = { vr: h.vr, valueOffset: h.valueOffset, length: h.length };
  return end;
}

/** Walks the items of a sequence (PS3.5 §7.5); returns the offset after it. */
function walkSequence(
  w: Walk,
  enc: Encoding,
  sq: ElementHeader,
  limit: number,
  atEnd: boolean,
  undefinedLength: boolean,
  depth: number,
): number {
  if (depth > w.maxDepth) {
    throw new InvalidDicomError(
      `not a valid data set: sequences nested deeper than ${w.maxDepth} levels (at ${tagText(sq.tag)}, ${where(w, sq.offset)})`,
    );
  }
  let pos = sq.valueOffset;
  for (;;) {
    if (pos >= limit) {
      if (undefinedLength) {
        throw new InvalidDicomError(
          atEnd
            ? `truncated: sequence ${tagText(sq.tag)} at ${where(w, sq.offset)} has no sequence delimiter (${endText(w)})`
            : `not a valid data set: sequence ${tagText(sq.tag)} at ${where(w, sq.offset)} runs past its enclosing item`,
        );
      }
      return pos;
    }
    const h = readHeader(w, enc, pos, limit);
    if (h.tag === SEQUENCE_DELIMITER && (undefinedLength || h.valueOffset === limit)) return h.valueOffset;
    if (h.tag !== ITEM) {
      throw new InvalidDicomError(
        `not a valid data set: expected an item in sequence ${tagText(sq.tag)} at ${where(w, pos)}, found ${tagText(h.tag)}`,
      );
    }
    if (h.length === UNDEFINED_LENGTH) {
      pos = walkElements(w, enc, h.valueOffset, limit, atEnd, true, depth);
    } else {
      const end = h.valueOffset + h.length;
      if (end > limit) throw atEnd ? truncatedValue(w, h, limit, 'item in sequence') : overrun(w, h, limit);
      walkElements(w, enc, h.valueOffset, end, false, false, depth);
      pos = end;
    }
  }
}

/** Walks encapsulated pixel data (PS3.5 §A.4): offset table item, fragment items, sequence delimiter. */
function walkFragments(w: Walk, enc: Encoding, px: ElementHeader, limit: number, atEnd: boolean, record: boolean): number {
  let pos = px.valueOffset;
  let offsetTable: number[] | undefined;
  const fragments: { offset: number; length: number }[] = [];
  for (;;) {
    if (pos >= limit) {
      throw new InvalidDicomError(
        atEnd
          ? `truncated: encapsulated pixel data ${tagText(px.tag)} at ${where(w, px.offset)} has no sequence delimiter (${endText(w)})`
          : `not a valid data set: encapsulated data ${tagText(px.tag)} at ${where(w, px.offset)} runs past its enclosing item`,
      );
    }
    const h = readHeader(w, enc, pos, limit);
    if (h.tag === SEQUENCE_DELIMITER) {
      if (record) {
        w.pixelData = { vr: px.vr, valueOffset: px.valueOffset, length: null, offsetTable: offsetTable ?? [], fragments };
      }
      return h.valueOffset;
    }
    if (h.tag !== ITEM || h.length === UNDEFINED_LENGTH) {
      throw new InvalidDicomError(
        `not a valid data set: expected a fragment item in encapsulated data ${tagText(px.tag)} at ${where(w, pos)}, found ${tagText(h.tag)}${h.tag === ITEM ? ' with undefined length' : ''}`,
      );
    }
    const end = h.valueOffset + h.length;
    if (end > limit) throw atEnd ? truncatedValue(w, h, limit, 'fragment') : overrun(w, h, limit);
    if (record) {
      if (offsetTable === undefined) {
        const bytes = w.source.read(h.valueOffset, h.length - (h.length % 4));
        offsetTable = [];
        for (let i = 0; i + 4 <= bytes.length; i += 4) offsetTable.push(u32(bytes, i, enc.littleEndian));
      } else {
        if (fragments.length >= MAX_FRAGMENTS) {
          throw new InvalidDicomError(`not a valid data set: more than ${MAX_FRAGMENTS} pixel data fragments`);
        }
        fragments.push({ offset: h.valueOffset, length: h.length });
      }
    }
    pos = end;
  }
}

/** A view of `source` from `start` on. */
class OffsetByteSource implements ByteSource {
  readonly size: number;
  constructor(
    private readonly source: ByteSource,
    private readonly start: number,
  ) {
    this.size = Math.max(0, source.size - start);
  }
  read(offset: number, length: number): Uint8Array {
    const from = Math.min(Math.max(0, offset), this.size);
    return this.source.read(this.start + from, Math.min(Math.max(0, length), this.size - from));
  }
}

/** Group 0002 explicit VR LE element at `offset` (PS3.10 §7.1)? */
function metaElementAt(source: ByteSource, offset: number): boolean {
  const b = source.read(offset, 6);
  return b.length === 6 && b[0] === 0x02 && b[1] === 0x00 && isVr(b[4], b[5]);
}

function hasDicmAt128(source: ByteSource): boolean {
  const b = source.read(128, 4);
  return b.length === 4 && b[0] === 0x44 && b[1] === 0x49 && b[2] === 0x43 && b[3] === 0x4d;
}

interface Meta {
  readonly end: number;
  readonly transferSyntaxUid: string | null;
}

/**
 * The file meta group (PS3.10 §7.1), always explicit VR LE. Its group length is not trusted (real
 * files get it wrong): the group ends where the first non-0002 tag starts.
 */
function readMeta(source: ByteSource, start: number): Meta {
  const w: Walk = { source, fileOffset: 0, maxDepth: 0, pixelData: null, pixelDataTagOffset: null };
  const enc: Encoding = { explicitVr: true, littleEndian: true };
  let pos = start;
  let transferSyntaxUid: string | null = null;
  while (pos < source.size) {
    const g = source.read(pos, 2);
    if (g.length < 2 || g[0] !== 0x02 || g[1] !== 0x00) break;
    const h = readHeader(w, enc, pos, source.size);
    if (h.length === UNDEFINED_LENGTH) {
      throw new InvalidDicomError(`not a valid file meta header: element ${tagText(h.tag)} at offset ${pos} has undefined length`);
    }
    const end = h.valueOffset + h.length;
    if (end > source.size) throw truncatedValue(w, h, source.size);
    if (h.tag === TRANSFER_SYNTAX_UID) {
      transferSyntaxUid = Buffer.from(source.read(h.valueOffset, Math.min(h.length, 256)))
        .toString('latin1')
        .replace(/[\0 ]+$/, '')
        .trim();
    }
    pos = end;
  }
  return { end: pos, transferSyntaxUid };
}

const CANDIDATES: readonly (Encoding & { uid: string })[] = [
  { uid: EXPLICIT_VR_LITTLE_ENDIAN, explicitVr: true, littleEndian: true },
  { uid: IMPLICIT_VR_LITTLE_ENDIAN, explicitVr: false, littleEndian: true },
  { uid: EXPLICIT_VR_BIG_ENDIAN, explicitVr: true, littleEndian: false },
];

/**
 * Does the data set at `offset` start like one in this encoding? The first few top-level
 * elements must have a plausible first group, valid VRs, ascending tags and lengths that fit.
 */
function probe(source: ByteSource, offset: number, enc: Encoding): boolean {
  const w: Walk = { source, fileOffset: 0, maxDepth: 0, pixelData: null, pixelDataTagOffset: null };
  let pos = offset;
  let previous = -1;
  try {
    for (let n = 0; n < 8 && pos < source.size; n++) {
      const h = readHeader(w, enc, pos, source.size);
      // data sets start with a low group (0008 Identifying, 0010 Patient…); command group 0000 is no file
      if (n === 0 && (h.tag >>> 16 < 0x0008 || h.tag >>> 16 > 0x00ff)) return false;
      if (h.tag >>> 16 === 0xfffe || h.tag <= previous) return false;
      previous = h.tag;
      if (h.length === UNDEFINED_LENGTH) return h.vr === 'SQ' || h.vr === 'UN' || h.tag === PIXEL_DATA;
      if (h.valueOffset + h.length > source.size) return false;
      pos = h.valueOffset + h.length;
    }
    return pos > offset;
  } catch {
    return false;
  }
}

/** Detects the encoding of a data set without meta (ACR-NEMA style / bare data set). */
function detectEncoding(source: ByteSource, offset: number): TransferSyntax | undefined {
  const b = source.read(offset, 6);
  // explicit first only when bytes 4-5 look like a VR, else implicit first
  const order = isVr(b[4], b[5]) ? CANDIDATES : [CANDIDATES[1]!, CANDIDATES[0]!, CANDIDATES[2]!];
  const hit = order.find((c) => probe(source, offset, c));
  return hit ? findTransferSyntax(hit.uid) : undefined;
}

function inflate(deflated: Uint8Array, maxInflatedBytes: number): Uint8Array {
  const tooBig = (err: unknown) => (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
  try {
    return inflateRawSync(deflated, { maxOutputLength: maxInflatedBytes });
  } catch (err) {
    if (tooBig(err)) throw new InvalidDicomError(`deflated data set inflates beyond ${maxInflatedBytes} bytes`);
    // some writers wrongly add a zlib header (RFC 1950): accept it
    if (deflated[0] === 0x78) {
      try {
        return inflateSync(deflated, { maxOutputLength: maxInflatedBytes });
      } catch (err2) {
        if (tooBig(err2)) throw new InvalidDicomError(`deflated data set inflates beyond ${maxInflatedBytes} bytes`);
      }
    }
    throw new InvalidDicomError(`deflated data set cannot be inflated: ${(err as Error).message}`);
  }
}

/** Inflated data sets of deflated files, so that datasetSource need not inflate again. */
const inflatedByStructure = new WeakMap<DicomStructure, Uint8Array>();

/** Validates the whole structure of a DICOM file (PS3.10 §7, PS3.5 §7) and locates its parts; throws InvalidDicomError. */
export function scanDicom(source: ByteSource, options: ScanOptions = {}): DicomStructure {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxInflatedBytes = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  if (source.size === 0) throw new InvalidDicomError('not a DICOM file: the file is empty');

  let hasPreamble = false;
  let metaStart: number | null = null;
  if (hasDicmAt128(source) && metaElementAt(source, 132)) {
    hasPreamble = true;
    metaStart = 132;
  } else if (metaElementAt(source, 0)) {
    metaStart = 0;
  }

  let datasetOffset: number;
  let declared: string | null = null;
  let transferSyntax: TransferSyntax | undefined;
  if (metaStart !== null) {
    const meta = readMeta(source, metaStart);
    datasetOffset = meta.end;
    declared = meta.transferSyntaxUid;
    if (declared) transferSyntax = transferSyntaxOrFallback(declared);
    if (datasetOffset >= source.size) {
      throw new InvalidDicomError('not a valid DICOM file: the file meta information is not followed by a data set');
    }
    transferSyntax ??= detectEncoding(source, datasetOffset);
  } else {
    datasetOffset = 0;
    transferSyntax = detectEncoding(source, 0);
    if (!transferSyntax && hasDicmAt128(source)) {
      // preamble and "DICM" but no meta group: a data set may follow directly
      transferSyntax = detectEncoding(source, 132);
      if (transferSyntax) {
        hasPreamble = true;
        datasetOffset = 132;
      }
    }
    if (!transferSyntax) {
      throw new InvalidDicomError(
        `not a DICOM file: no "DICM" prefix at offset 128, no file meta information (group 0002) and the bytes do not start like a data set`,
      );
    }
  }
  if (!transferSyntax) {
    throw new InvalidDicomError(`not a valid DICOM file: no transfer syntax in the file meta information and the data set encoding cannot be recognised`);
  }

  let space: ByteSource = new OffsetByteSource(source, datasetOffset);
  let inflated: Uint8Array | undefined;
  if (transferSyntax.deflated) {
    const deflatedBytes = source.size - datasetOffset;
    const ratioCap = options.maxInflateRatio === undefined ? Infinity : Math.max(1024 * 1024, deflatedBytes * options.maxInflateRatio);
    if (ratioCap < maxInflatedBytes) {
      try {
        inflated = inflate(source.read(datasetOffset, deflatedBytes), ratioCap);
      } catch (err) {
        if (err instanceof InvalidDicomError && /inflates beyond/.test(err.message)) {
          throw new InvalidDicomError(
            `deflated data set inflates more than ${options.maxInflateRatio} times its ${deflatedBytes} bytes (over ${ratioCap} bytes): a deflate bomb`,
          );
        }
        throw err;
      }
    } else inflated = inflate(source.read(datasetOffset, deflatedBytes), maxInflatedBytes);
    space = new BufferByteSource(inflated);
    if (inflated.length === 0) throw new InvalidDicomError('not a valid DICOM file: the deflated data set is empty');
  }

  const w: Walk = { source: space, fileOffset: inflated ? null : datasetOffset, maxDepth, pixelData: null, pixelDataTagOffset: null };
  const enc: Encoding = { explicitVr: transferSyntax.explicitVr, littleEndian: transferSyntax.littleEndian };
  try {
    walkElements(w, enc, 0, space.size, true, false, 0);
  } catch (err) {
    if (err instanceof InvalidDicomError) throw err;
    // a RangeError from a maxDepth far beyond the default, or a read error of the source
    throw new InvalidDicomError(`not a valid data set: ${(err as Error).message ?? String(err)}`);
  }
  if (w.pixelData === null) w.pixelDataTagOffset = null;

  const structure: DicomStructure = {
    hasPreamble,
    hasFileMeta: metaStart !== null,
    declaredTransferSyntaxUid: declared,
    transferSyntax,
    datasetOffset,
    headerEnd: inflated || w.pixelDataTagOffset === null ? source.size : datasetOffset + w.pixelDataTagOffset,
    pixelData: w.pixelData,
  };
  if (inflated) inflatedByStructure.set(structure, inflated);
  return structure;
}

/** Bytes in data-set space (PS3.5 §A.5 for deflated data sets): the inflated data set, or a view from datasetOffset. */
export function datasetSource(source: ByteSource, structure: DicomStructure): ByteSource {
  if (!structure.transferSyntax.deflated) return new OffsetByteSource(source, structure.datasetOffset);
  let inflated = inflatedByStructure.get(structure);
  if (!inflated) {
    inflated = inflate(source.read(structure.datasetOffset, source.size - structure.datasetOffset), DEFAULT_MAX_INFLATED_BYTES);
    inflatedByStructure.set(structure, inflated);
  }
  return new BufferByteSource(inflated);
}

/** Offset of the top-level (7FE0,0010) tag in data-set space, or null without pixel data. */
export function pixelDataTagOffset(structure: DicomStructure): number | null {
  const px = structure.pixelData;
  if (!px) return null;
  // the header before the value: 12 bytes explicit (OB/OW are long VRs), 8 implicit
  return px.valueOffset - (structure.transferSyntax.explicitVr ? 12 : 8);
}
