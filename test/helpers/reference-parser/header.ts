/**
 * FROZEN REFERENCE, test-only: src/dicom/header.ts as it was before the lazy header parse (commit
 * 319de10). test/unit/dicom-parse-equivalence.test.ts checks that the fast parser gives the same
 * results and the same errors as this one. Do not change it to follow src/.
 */
/**
 * The header parse: every element before top-level Pixel Data, decoded into our DicomDataset
 * model. dcmjs decodes the values (its ValueRepresentation classes, reading from a
 * ReadBufferStream subclass whose text decoding is charset.ts's); the element framing (tags,
 * lengths, items) is walked here, because dcmjs's framing mishandles what real files contain:
 * sequences sent as UN (CP-246), stray items, zero-length numbers (it invents 0), charsets inside
 * sequence items (it falls back to Latin-1) and multi-valued Specific Character Set (it throws).
 */
import dcmjs from 'dcmjs';
import { InvalidDicomError } from '../../../src/errors.js';
import type { ByteSource } from '../../../src/dicom/byte-source.js';
import { type CharsetDecoder, charsetDecoder } from '../../../src/dicom/charset.js';
import { type DicomDataset, type DicomElement, ElementList, type PersonName } from './dataset.js';
import { implicitVr, lookupTag } from '../../../src/dicom/dictionary.js';
import { type DicomStructure, type ScanOptions, DEFAULT_MAX_DEPTH, datasetSource, isVr, pixelDataTagOffset, scanDicom, tagText } from './scan.js';
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../../../src/dicom/transfer-syntax.js';

export interface DicomHeader {
  readonly structure: DicomStructure;
  readonly meta: DicomDataset;
  readonly dataset: DicomDataset;
  /** (0008,0005) values as written */
  readonly specificCharacterSet: readonly string[];
}

const { ReadBufferStream, ValueRepresentation } = dcmjs.data;

// dcmjs logs through loglevel; its warnings are about files we already validated
dcmjs.log.setLevel('error');
dcmjs.log.getLogger?.('validation.dcmjs').setLevel('silent');
dcmjs.log.rebuild?.();

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_DELIMITER = 0xfffee00d;
const SEQUENCE_DELIMITER = 0xfffee0dd;
const SPECIFIC_CHARACTER_SET = 0x00080005;
const PIXEL_DATA = 0x7fe00010;
const PIXEL_REPRESENTATION = '00280103';

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Text VRs whose values are never split on "\" (PS3.5 §6.2). */
const SINGLE_VALUED_TEXT = new Set(['LT', 'ST', 'UT', 'UR']);
/** Text VRs where leading spaces are significant (PS3.5 §6.2): only trailing padding goes. */
const KEEP_LEADING = new Set(['LT', 'ST', 'UT', 'UC', 'UR', 'PN']);

/** dcmjs's stream, with text decoded per our Specific Character Set handling. */
class CharsetReadStream extends ReadBufferStream {
  charset: CharsetDecoder = charsetDecoder(null);
  /** VR of the value being read (PN delimiters matter to ISO 2022 decoding). */
  vr = '';

  override readEncodedString(length: number): string {
    const n = Math.max(0, Math.min(length, this.endOffset - this.offset));
    const bytes = new Uint8Array(this.slice(this.offset, this.offset + n));
    this.increment(n);
    return this.charset.decode(bytes, this.vr);
  }

  /** dcmjs's own (0008,0005) handling must not replace our decoder. */
  override setDecoder(): void {}
}

interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}
const IMPLICIT_LE: Encoding = { explicitVr: false, littleEndian: true };

interface Header {
  readonly offset: number;
  readonly tag: number;
  /** As encoded (explicit VR) or implied (implicit VR); "" for item and delimiter tags. */
  readonly vr: string;
  readonly length: number;
  readonly valueOffset: number;
}

interface Context {
  readonly bytes: Uint8Array;
  readonly stream: CharsetReadStream;
  readonly maxDepth: number;
}

function syntaxOf(enc: Encoding): string {
  if (!enc.explicitVr) return IMPLICIT_VR_LITTLE_ENDIAN;
  return enc.littleEndian ? EXPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_BIG_ENDIAN;
}

function fail(message: string): never {
  throw new InvalidDicomError(`not a valid data set: ${message}`);
}

function readHeader(ctx: Context, enc: Encoding, offset: number, limit: number): Header {
  const b = ctx.bytes;
  if (offset + 8 > limit) fail(`element header at offset ${offset} runs past the end`);
  const le = enc.littleEndian;
  const u16 = (i: number) => (le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!);
  const u32 = (i: number) =>
    (le ? (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) : ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!)) >>>
    0;
  const tag = ((u16(offset) << 16) | u16(offset + 2)) >>> 0;
  if (tag >>> 16 === 0xfffe || !enc.explicitVr) {
    const length = u32(offset + 4);
    return { offset, tag, vr: tag >>> 16 === 0xfffe ? '' : implicitVr(tag, length), length, valueOffset: offset + 8 };
  }
  if (!isVr(b[offset + 4], b[offset + 5])) fail(`element ${tagText(tag)} at offset ${offset} has an invalid VR`);
  const vr = String.fromCharCode(b[offset + 4]!, b[offset + 5]!);
  if (LONG_VRS.has(vr)) {
    if (offset + 12 > limit) fail(`element header at offset ${offset} runs past the end`);
    return { offset, tag, vr, length: u32(offset + 8), valueOffset: offset + 12 };
  }
  return { offset, tag, vr, length: u16(offset + 6), valueOffset: offset + 8 };
}

function hex(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** Strips DICOM padding: trailing spaces and NULs, and leading spaces where they are insignificant. */
function trimText(s: string, vr: string): string {
  const end = s.replace(/[\0 ]+$/, '');
  return KEEP_LEADING.has(vr) ? end : end.replace(/^[\0 ]+/, '');
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** PN value → DICOM JSON person name (PS3.18 F.2.2), empty component groups omitted. */
export function personName(value: string): PersonName {
  const [alphabetic, ideographic, phonetic] = value.split('=');
  const pn: PersonName = {};
  if (alphabetic) pn.Alphabetic = alphabetic;
  if (ideographic) pn.Ideographic = ideographic;
  if (phonetic) pn.Phonetic = phonetic;
  return pn;
}

/** Raw text of a string element → values (PS3.5 §6.2 padding and delimiters, PS3.18 F.2 types). */
function textValues(raw: string, vr: string): unknown[] {
  const parts = SINGLE_VALUED_TEXT.has(vr) ? [raw] : raw.split('\\');
  const values = parts.map((p) => {
    // UIDs cannot hold spaces (PS3.5 §9.1): drop them, as dcmtk does ("REM SAMPLES 1" → "REMSAMPLES1")
    const s = vr === 'UI' ? p.replace(/[\0\s]/g, '') : trimText(p, vr);
    if (vr === 'DS' || vr === 'IS') {
      return s !== '' && DECIMAL.test(s) ? Number(s) : s;
    }
    if (vr === 'PN') return s === '' ? s : personName(s);
    return s;
  });
  return values.length === 1 && values[0] === '' ? [] : values;
}

function isSigned16Candidate(tag: string): boolean {
  // LUT descriptors are "US or SS" but their 1st and 3rd values are always unsigned (PS3.3 C.11.1.1.1)
  return !/^0028(110[1-4]|3002)$/.test(tag) && lookupTag(tag)?.vr === 'US or SS';
}

interface Read {
  readonly element: DicomElement;
  readonly next: number;
}

/** Reads one element whose header is `h`; `limit` bounds undefined-length content. */
function readElement(ctx: Context, enc: Encoding, h: Header, limit: number, depth: number): Read {
  const tag = hex(h.tag);
  let vr = h.vr;
  let itemEnc = enc;
  if (h.tag === PIXEL_DATA && h.length === UNDEFINED_LENGTH) {
    return readEncapsulated(ctx, enc, h, tag, vr, limit); // e.g. an icon's JPEG, whatever its VR
  }
  if (enc.explicitVr && vr === 'UN') {
    // CP-246: UN of undefined length is an implicit VR LE sequence; a known tag gets its own VR
    const known = lookupTag(tag)?.vr.slice(0, 2);
    if (h.length === UNDEFINED_LENGTH) {
      vr = 'SQ';
      itemEnc = IMPLICIT_LE;
    } else if (known === 'SQ') {
      try {
        const { items, next } = readSequence(ctx, IMPLICIT_LE, h, limit, depth + 1);
        return { element: { tag, vr: 'SQ', values: [], items, length: h.length }, next };
      } catch (err) {
        if (!(err instanceof InvalidDicomError)) throw err;
        // not an implicit VR sequence after all: keep the bytes as UN
      }
    } else if (known && !BINARY_VRS.has(known)) {
      vr = known;
    }
  } else if (!enc.explicitVr && h.length === UNDEFINED_LENGTH && vr !== 'OB' && vr !== 'OW') {
    vr = 'SQ';
  }

  if (vr === 'SQ') {
    const { items, next } = readSequence(ctx, itemEnc, h, limit, depth + 1);
    return { element: { tag, vr, values: [], items, length: next - h.valueOffset }, next };
  }
  if (h.length === UNDEFINED_LENGTH) {
    if (vr !== 'OB' && vr !== 'OW') fail(`element ${tagText(h.tag)} has undefined length but VR ${vr}`);
    return readEncapsulated(ctx, enc, h, tag, vr, limit);
  }
  const end = h.valueOffset + h.length;
  if (end > limit) fail(`element ${tagText(h.tag)} at offset ${h.offset} runs past the end`);
  const raw = ctx.bytes.subarray(h.valueOffset, end);
  if (h.length === 0) return { element: { tag, vr, values: [], length: 0 }, next: end };
  if (BINARY_VRS.has(vr)) return { element: { tag, vr, values: [], bytes: raw.slice(), length: h.length }, next: end };
  if (vr === 'SV' || vr === 'UV') return { element: { tag, vr, values: veryLongs(raw, vr, enc), length: h.length }, next: end };
  return { element: { tag, vr, values: dcmjsValues(ctx, enc, h, vr), length: h.length }, next: end };
}

/** SV/UV (dcmjs has no SV): numbers when safe, else decimal strings (PS3.18 F.2.3). */
function veryLongs(raw: Uint8Array, vr: string, enc: Encoding): unknown[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: unknown[] = [];
  for (let i = 0; i + 8 <= raw.length; i += 8) {
    const v = vr === 'SV' ? view.getBigInt64(i, enc.littleEndian) : view.getBigUint64(i, enc.littleEndian);
    out.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());
  }
  return out;
}

/** Decodes a value with dcmjs's ValueRepresentation classes, then applies PS3.5 §6.2 rules. */
function dcmjsValues(ctx: Context, enc: Encoding, h: Header, vrType: string): unknown[] {
  const stream = ctx.stream;
  const vr = ValueRepresentation.createByTypeString(vrType);
  const syntax = syntaxOf(enc);
  stream.setEndian(enc.littleEndian);
  stream.offset = h.valueOffset;
  stream.vr = vrType;
  if (vr.isBinary()) {
    // fixed-size numbers (US, SS, UL, SL, FL, FD, AT): one read per value
    const size = vr.maxLength ?? h.length;
    const values: unknown[] = [];
    for (let i = 0; i + size <= h.length; i += size) {
      stream.offset = h.valueOffset + i;
      const v = vr.read(stream, size, syntax).value;
      values.push(vrType === 'AT' ? hex(v as number) : v);
    }
    return values;
  }
  const { rawValue, value } = vr.read(stream, h.length, syntax);
  const raw = rawValue ?? value;
  const whole = Array.isArray(raw) ? raw.join('\\') : String(raw ?? '');
  return textValues(whole, vrType);
}

/** Encapsulated data below top level (e.g. an icon's JPEG): the fragments' bytes, concatenated. */
function readEncapsulated(ctx: Context, enc: Encoding, h: Header, tag: string, vr: string, limit: number): Read {
  let pos = h.valueOffset;
  const parts: Uint8Array[] = [];
  let first = true;
  for (;;) {
    const item = readHeader(ctx, enc, pos, limit);
    if (item.tag === SEQUENCE_DELIMITER) {
      pos = item.valueOffset;
      break;
    }
    if (item.tag !== ITEM || item.length === UNDEFINED_LENGTH || item.valueOffset + item.length > limit) {
      fail(`bad fragment in encapsulated element ${tagText(h.tag)}`);
    }
    if (!first) parts.push(ctx.bytes.subarray(item.valueOffset, item.valueOffset + item.length));
    first = false; // the first item is the Basic Offset Table
    pos = item.valueOffset + item.length;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { element: { tag, vr, values: [], bytes, length: pos - h.valueOffset }, next: pos };
}

function readSequence(ctx: Context, enc: Encoding, sq: Header, limit: number, depth: number): { items: DicomDataset[]; next: number } {
  if (depth > ctx.maxDepth) fail(`sequences nested deeper than ${ctx.maxDepth} levels`);
  const undefinedLength = sq.length === UNDEFINED_LENGTH;
  const end = undefinedLength ? limit : sq.valueOffset + sq.length;
  if (end > limit) fail(`sequence ${tagText(sq.tag)} runs past the end`);
  const items: DicomDataset[] = [];
  let pos = sq.valueOffset;
  while (pos < end) {
    const h = readHeader(ctx, enc, pos, end);
    if (h.tag === SEQUENCE_DELIMITER) {
      pos = h.valueOffset;
      if (undefinedLength) return { items, next: pos };
      break;
    }
    if (h.tag !== ITEM) fail(`expected an item in sequence ${tagText(sq.tag)}, found ${tagText(h.tag)}`);
    if (h.length === UNDEFINED_LENGTH) {
      const r = readDataset(ctx, enc, h.valueOffset, end, true, depth);
      items.push(r.dataset);
      pos = r.next;
    } else {
      const itemEnd = h.valueOffset + h.length;
      if (itemEnd > end) fail(`item in sequence ${tagText(sq.tag)} runs past the end`);
      items.push(readDataset(ctx, enc, h.valueOffset, itemEnd, false, depth).dataset);
      pos = itemEnd;
    }
  }
  if (undefinedLength) fail(`sequence ${tagText(sq.tag)} has no sequence delimiter`);
  return { items, next: end };
}

/**
 * Reads the elements of one data set from `start` up to `end` (or the item delimiter). A
 * (0008,0005) inside applies to the rest of this data set and its items only (PS3.5 §6.1.2.3).
 */
function readDataset(
  ctx: Context,
  enc: Encoding,
  start: number,
  end: number,
  untilDelimiter: boolean,
  depth: number,
): { dataset: ElementList; next: number } {
  const inherited = ctx.stream.charset;
  const elements: DicomElement[] = [];
  let pos = start;
  let delimited = false;
  try {
    while (pos < end) {
      const h = readHeader(ctx, enc, pos, end);
      if (h.tag === ITEM_DELIMITER && untilDelimiter) {
        pos = h.valueOffset;
        delimited = true;
        break;
      }
      if (h.tag === ITEM && h.length !== UNDEFINED_LENGTH) {
        pos = h.valueOffset + h.length; // stray item without its sequence (tolerated by scan.ts)
        continue;
      }
      if (h.tag >>> 16 === 0xfffe) fail(`unexpected ${tagText(h.tag)} at offset ${pos}`);
      const r = readElement(ctx, enc, h, end, depth);
      if (h.tag === SPECIFIC_CHARACTER_SET) {
        ctx.stream.charset = charsetDecoder(characterSetTerms(r.element, ctx.bytes.subarray(h.valueOffset, r.next)));
      }
      elements.push(r.element);
      pos = r.next;
    }
  } finally {
    ctx.stream.charset = inherited;
  }
  if (untilDelimiter && !delimited) fail(`item at offset ${start} has no item delimiter`);
  return { dataset: new ElementList(fixAmbiguousVr(elements, enc)), next: pos };
}

/** (0008,0005) as written: values split on "\", padding trimmed, empty values kept (value 1 may be empty). */
function characterSetTerms(element: DicomElement, raw: Uint8Array): string[] {
  if (element.length === 0) return [];
  const text = Buffer.from(raw).toString('latin1').replace(/[\0 ]+$/, '');
  return text.split('\\').map((t) => t.trim());
}

/**
 * Implicit VR "US or SS" elements (e.g. Smallest Image Pixel Value) are signed when Pixel
 * Representation is 1 (PS3.5 Annex A.1 note, PS3.3 C.7.6.3.1); they were read as US.
 */
function fixAmbiguousVr(elements: DicomElement[], enc: Encoding): DicomElement[] {
  if (enc.explicitVr) return elements;
  const pr = elements.find((e) => e.tag === PIXEL_REPRESENTATION)?.values[0];
  if (pr !== 1) return elements;
  return elements.map((e) =>
    e.vr === 'US' && isSigned16Candidate(e.tag)
      ? { ...e, vr: 'SS', values: e.values.map((v) => (typeof v === 'number' ? (v << 16) >> 16 : v)) }
      : e,
  );
}

function parseBytes(bytes: Uint8Array, enc: Encoding, maxDepth: number): { dataset: ElementList; specificCharacterSet: string[] } {
  const copy = new Uint8Array(bytes); // a copy (Buffer#slice would share): dcmjs reads copy.buffer from 0
  const stream = new CharsetReadStream(copy.buffer);
  stream.setEndian(enc.littleEndian);
  const ctx: Context = { bytes: copy, stream, maxDepth };
  const { dataset } = readDataset(ctx, enc, 0, copy.length, false, 0);
  const scs = dataset.get('00080005');
  const specificCharacterSet = scs ? scs.values.map(String) : [];
  return { dataset, specificCharacterSet };
}

/**
 * Parses the file meta information and every data set element before top-level Pixel Data
 * (PS3.10 §7, PS3.5 §7); reads only bytes [0, headerEnd) (the inflated data set when deflated).
 */
export function parseHeader(source: ByteSource, structure?: DicomStructure, options: ScanOptions = {}): DicomHeader {
  const s = structure ?? scanDicom(source, options);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  try {
    const metaStart = s.hasFileMeta ? (s.hasPreamble ? 132 : 0) : s.datasetOffset;
    const meta = parseBytes(source.read(metaStart, s.datasetOffset - metaStart), { explicitVr: true, littleEndian: true }, maxDepth);
    const space = datasetSource(source, s);
    const end = pixelDataTagOffset(s) ?? space.size;
    const enc = { explicitVr: s.transferSyntax.explicitVr, littleEndian: s.transferSyntax.littleEndian };
    const data = space.read(0, end);
    if (data.length < end) throw new InvalidDicomError(`truncated: the header needs ${end} bytes of data set, the source has ${data.length}`);
    const { dataset, specificCharacterSet } = parseBytes(data, enc, maxDepth);
    return { structure: s, meta: meta.dataset, dataset, specificCharacterSet };
  } catch (err) {
    if (err instanceof InvalidDicomError) throw err;
    // dcmjs throws Errors and sometimes plain strings
    const message = err instanceof Error ? err.message : String(err);
    throw new InvalidDicomError(`the header cannot be parsed: ${message}`);
  }
}
