/**
 * The header parse: every element before top-level Pixel Data, decoded into our DicomDataset
 * model. dcmjs decodes the values (its ValueRepresentation classes, reading from a
 * ReadBufferStream subclass whose text decoding is charset.ts's), each on first access (see
 * LazyElement). The element framing (tags, lengths, items) is walked here, in full, during the
 * parse, because dcmjs's framing mishandles what real files contain: sequences sent as UN
 * (CP-246), stray items, zero-length numbers (it invents 0), charsets inside sequence items (it
 * falls back to Latin-1) and multi-valued Specific Character Set (it throws).
 */
import dcmjs from 'dcmjs';
import { InvalidDicomError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { type CharsetDecoder, charsetDecoder } from './charset.js';
import { type DicomDataset, type DicomElement, ElementList, type PersonName } from './dataset.js';
import { lookupTag } from './dictionary.js';
import { type DicomStructure, type ScanOptions, DEFAULT_MAX_DEPTH, datasetSource, impliedVr, pixelDataTagOffset, scanDicom, tagText, vrAt } from './scan.js';
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.js';

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
  /** The parse's own copy of the bytes (lazy values keep it: the caller's bytes may change). */
  readonly bytes: Uint8Array;
  /** Decoder of the (0008,0005) in effect where the walk is (PS3.5 §6.1.2.3). */
  charset: CharsetDecoder;
  readonly maxDepth: number;
  /** Value bytes held apart from `bytes` (binary copies, large values decoded at once). */
  heldApart: number;
}

/**
 * Lazy values keep the parse's copy of the header alive. When the elements also hold more than
 * this apart from it (an encapsulated PDF, a large LUT), every value is decoded before parseHeader
 * returns and the copy is let go, so that a cached header costs no more memory than it used to.
 */
const HELD_APART_MAX_BYTES = 64 * 1024;

/**
 * One dcmjs stream per thread, reused for every value: a value is copied to the start of its
 * scratch buffer and read from there (constructing a dcmjs stream costs more than decoding a few
 * values). Reads stay within the value's length, so what lies past it in the buffer is never read.
 */
let scratch: { readonly bytes: Uint8Array; readonly stream: CharsetReadStream } | undefined;
/** Values larger than this get a stream of their own rather than growing the scratch buffer for good. */
const SCRATCH_MAX_BYTES = 64 * 1024;

/**
 * Values up to this size are decoded on first access rather than during the parse. Bigger ones
 * are decoded at once, so that the one failure a decode can have (a string past V8's ~2^29
 * characters) still rejects the file inside parseHeader, as before.
 */
const LAZY_DECODE_MAX_BYTES = 1024 * 1024;

/**
 * An element whose values dcmjs decodes on first access (pydicom's lazy conversion): a parse
 * walks every element, but its callers read a few (the upload summary reads about 25 of
 * hundreds). The decode is the one the parse used to run eagerly, with the character set in
 * effect at the element; it is pure and cannot fail for values up to LAZY_DECODE_MAX_BYTES
 * (bounded reads of in-range bytes, string operations), so deferring it rejects no other file.
 */
class LazyElement implements DicomElement {
  private decoded: readonly unknown[] | undefined;
  constructor(
    readonly tag: string,
    readonly vr: string,
    readonly length: number,
    /** Not `bytes`: that field of DicomElement means the raw value of a binary VR. Dropped once decoded. */
    private source: Uint8Array | undefined,
    private readonly valueOffset: number,
    private readonly enc: Encoding,
    private readonly charset: CharsetDecoder,
  ) {}

  get values(): readonly unknown[] {
    if (this.decoded === undefined) {
      try {
        const raw = (this.source as Uint8Array).subarray(this.valueOffset, this.valueOffset + this.length);
        this.decoded = dcmjsValues(raw, this.enc, this.vr, this.charset);
        this.source = undefined;
      } catch (err) {
        throw asInvalidDicom(err);
      }
    }
    return this.decoded;
  }
}

function syntaxOf(enc: Encoding): string {
  if (!enc.explicitVr) return IMPLICIT_VR_LITTLE_ENDIAN;
  return enc.littleEndian ? EXPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_BIG_ENDIAN;
}

function fail(message: string): never {
  throw new InvalidDicomError(`not a valid data set: ${message}`);
}

function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number, le: boolean): number {
  return (le ? b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24) : (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

function readHeader(ctx: Context, enc: Encoding, offset: number, limit: number): Header {
  const b = ctx.bytes;
  if (offset + 8 > limit) fail(`element header at offset ${offset} runs past the end`);
  const le = enc.littleEndian;
  const tag = ((u16(b, offset, le) << 16) | u16(b, offset + 2, le)) >>> 0;
  if (tag >>> 16 === 0xfffe || !enc.explicitVr) {
    const length = u32(b, offset + 4, le);
    return { offset, tag, vr: tag >>> 16 === 0xfffe ? '' : impliedVr(tag, length), length, valueOffset: offset + 8 };
  }
  const vr = vrAt(b[offset + 4], b[offset + 5]);
  if (vr === undefined) fail(`element ${tagText(tag)} at offset ${offset} has an invalid VR`);
  if (LONG_VRS.has(vr)) {
    if (offset + 12 > limit) fail(`element header at offset ${offset} runs past the end`);
    return { offset, tag, vr, length: u32(b, offset + 8, le), valueOffset: offset + 12 };
  }
  return { offset, tag, vr, length: u16(b, offset + 6, le), valueOffset: offset + 8 };
}

/** "GGGGEEEE" keys of the tags seen so far: files repeat the same few hundred tags. */
const hexCache = new Map<number, string>();
/** Crafted files can hold any number of distinct tags: past this many, keys are built each time. */
const HEX_CACHE_MAX = 8192;

function hex(tag: number): string {
  let h = hexCache.get(tag);
  if (h === undefined) {
    h = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
    if (hexCache.size < HEX_CACHE_MAX) hexCache.set(tag, h);
  }
  return h;
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
  if (h.length === 0) return { element: { tag, vr, values: [], length: 0 }, next: end };
  if (BINARY_VRS.has(vr)) {
    ctx.heldApart += h.length;
    return { element: { tag, vr, values: [], bytes: ctx.bytes.slice(h.valueOffset, end), length: h.length }, next: end };
  }
  if (vr === 'SV' || vr === 'UV') {
    return { element: { tag, vr, values: veryLongs(ctx.bytes.subarray(h.valueOffset, end), vr, enc), length: h.length }, next: end };
  }
  if (h.length > LAZY_DECODE_MAX_BYTES) {
    ctx.heldApart += h.length;
    return { element: { tag, vr, values: dcmjsValues(ctx.bytes.subarray(h.valueOffset, end), enc, vr, ctx.charset), length: h.length }, next: end };
  }
  return { element: new LazyElement(tag, vr, h.length, ctx.bytes, h.valueOffset, enc, ctx.charset), next: end };
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

/** A dcmjs stream whose bytes [0, value.length) are `value`. */
function streamOver(value: Uint8Array): CharsetReadStream {
  if (value.length > SCRATCH_MAX_BYTES) return new CharsetReadStream(new Uint8Array(value).buffer);
  if (scratch === undefined || scratch.bytes.length < value.length) {
    const bytes = new Uint8Array(Math.max(4096, 2 ** Math.ceil(Math.log2(value.length))));
    scratch = { bytes, stream: new CharsetReadStream(bytes.buffer) };
  }
  scratch.bytes.set(value, 0);
  return scratch.stream;
}

/** Decodes a value with dcmjs's ValueRepresentation classes, then applies PS3.5 §6.2 rules. */
function dcmjsValues(bytes: Uint8Array, enc: Encoding, vrType: string, charset: CharsetDecoder): unknown[] {
  const stream = streamOver(bytes);
  const length = bytes.length;
  const vr = ValueRepresentation.createByTypeString(vrType);
  const syntax = syntaxOf(enc);
  stream.setEndian(enc.littleEndian);
  stream.offset = 0;
  stream.vr = vrType;
  stream.charset = charset;
  if (vr.isBinary()) {
    // fixed-size numbers (US, SS, UL, SL, FL, FD, AT): one read per value
    const size = vr.maxLength ?? length;
    const values: unknown[] = [];
    for (let i = 0; i + size <= length; i += size) {
      stream.offset = i;
      const v = vr.read(stream, size, syntax).value;
      values.push(vrType === 'AT' ? hex(v as number) : v);
    }
    return values;
  }
  const { rawValue, value } = vr.read(stream, length, syntax);
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
  ctx.heldApart += bytes.length;
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
  const inherited = ctx.charset;
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
        ctx.charset = charsetDecoder(characterSetTerms(r.element, ctx.bytes.subarray(h.valueOffset, r.next)));
      }
      elements.push(r.element);
      pos = r.next;
    }
  } finally {
    ctx.charset = inherited;
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
      ? { tag: e.tag, vr: 'SS', values: e.values.map((v) => (typeof v === 'number' ? (v << 16) >> 16 : v)), length: e.length }
      : e,
  );
}

function parseBytes(bytes: Uint8Array, enc: Encoding, maxDepth: number): { dataset: ElementList; specificCharacterSet: string[] } {
  const copy = new Uint8Array(bytes); // a copy (Buffer#slice would share): lazy values read it later
  const ctx: Context = { bytes: copy, charset: charsetDecoder(null), maxDepth, heldApart: 0 };
  const { dataset } = readDataset(ctx, enc, 0, copy.length, false, 0);
  if (ctx.heldApart > HELD_APART_MAX_BYTES) decodeAll(dataset);
  const scs = dataset.get('00080005');
  const specificCharacterSet = scs ? scs.values.map(String) : [];
  return { dataset, specificCharacterSet };
}

/** Decodes every value of a data set and its items (their lazy elements let go of the header copy). */
function decodeAll(dataset: DicomDataset): void {
  for (const e of dataset.elements) {
    void e.values;
    for (const item of e.items ?? []) decodeAll(item);
  }
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
    throw asInvalidDicom(err);
  }
}

/** dcmjs throws Errors and sometimes plain strings: all become InvalidDicomError. */
function asInvalidDicom(err: unknown): InvalidDicomError {
  if (err instanceof InvalidDicomError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InvalidDicomError(`the header cannot be parsed: ${message}`);
}
