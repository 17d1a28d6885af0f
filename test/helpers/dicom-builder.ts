/**
 * Builds small synthetic DICOM files for tests (PS3.10 §7, PS3.5 §7): with or without the 128-byte
 * preamble, with or without file meta, in implicit VR LE, explicit VR LE/BE or deflated, with
 * sequences of defined or undefined length and native or encapsulated pixel data.
 *
 *   buildDicom({
 *     transferSyntax: '1.2.840.10008.1.2',
 *     elements: [{ tag: '00100010', vr: 'PN', value: 'Doe^John' }],
 *     pixelData: { native: new Uint8Array(16), vr: 'OW' },
 *   })
 *
 * Elements are written in the order given (sort them yourself, or pass out-of-order tags on purpose).
 */
import { deflateRawSync } from 'node:zlib';

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
export const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

export type BuildValue = string | number | bigint | readonly (string | number | bigint)[] | Uint8Array;

export interface BuildElement {
  /** "GGGGEEEE", "(gggg,eeee)" or a number. */
  tag: string | number;
  vr: string;
  /** Strings (joined with "\"), numbers, or raw value bytes (written as they are, e.g. non-UTF-8 text). */
  value?: BuildValue;
  /** SQ: the items, each a list of elements. */
  items?: readonly (readonly BuildElement[])[];
  /** SQ or OB/OW/UN: write undefined length with a sequence delimiter (default: defined length). */
  undefinedLength?: boolean;
  /** SQ: write every item with undefined length and an item delimiter. */
  itemUndefinedLength?: boolean;
  /** Override the value length written in the header (to build corrupt files). */
  lengthOverride?: number;
  /** Write the value bytes as they are, without padding to an even length (odd lengths occur in real files). */
  noPadding?: boolean;
}

export type BuildPixelData =
  | { native: Uint8Array; vr?: 'OB' | 'OW' }
  | { fragments: readonly Uint8Array[]; offsetTable?: readonly number[]; vr?: 'OB' };

export interface BuildMeta {
  /** (0002,0010); null omits it. Default: the transferSyntax option. */
  transferSyntaxUid?: string | null;
  /** Value written in (0002,0000); default: the right one. */
  groupLength?: number;
  sopClassUid?: string;
  sopInstanceUid?: string;
}

export interface BuildOptions {
  /** Encoding of the data set. Default explicit VR little endian. */
  transferSyntax?: string;
  /** 128-byte preamble + "DICM" (default true; ignored without meta). */
  preamble?: boolean;
  /** File meta information (default true); false writes a bare data set. */
  meta?: boolean | BuildMeta;
  elements?: readonly BuildElement[];
  /** Appended as top-level (7FE0,0010) after the elements. */
  pixelData?: BuildPixelData;
  /** Elements written after the pixel data (e.g. trailing padding). */
  trailing?: readonly BuildElement[];
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

interface Enc {
  explicit: boolean;
  little: boolean;
}

export function encodingOf(transferSyntax: string): Enc {
  if (transferSyntax === IMPLICIT_LE) return { explicit: false, little: true };
  if (transferSyntax === EXPLICIT_BE) return { explicit: true, little: false };
  return { explicit: true, little: true };
}

function tagNumber(tag: string | number): number {
  if (typeof tag === 'number') return tag >>> 0;
  const hex = tag.replace(/[(),\s]/g, '');
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw new Error(`bad tag ${tag}`);
  return parseInt(hex, 16) >>> 0;
}

function u16(n: number, little: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (little) b.writeUInt16LE(n & 0xffff);
  else b.writeUInt16BE(n & 0xffff);
  return b;
}

function u32(n: number, little: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (little) b.writeUInt32LE(n >>> 0);
  else b.writeUInt32BE(n >>> 0);
  return b;
}

function tagBytes(tag: number, little: boolean): Buffer {
  return Buffer.concat([u16(tag >>> 16, little), u16(tag & 0xffff, little)]);
}

function pad(bytes: Buffer, vr: string): Buffer {
  if (bytes.length % 2 === 0) return bytes;
  const padByte = vr === 'UI' || LONG_VRS.has(vr) || /^(O.|U[LSV]|S[LSV]|F[LD]|AT)$/.test(vr) ? 0 : 0x20;
  return Buffer.concat([bytes, Buffer.from([padByte])]);
}

/** The value bytes of one element (without padding). */
export function encodeValue(vr: string, value: BuildValue | undefined, little: boolean): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  if (value instanceof Uint8Array) return Buffer.from(value);
  const list = (Array.isArray(value) ? value : [value]) as (string | number | bigint)[];
  const numeric = (size: number, write: (b: Buffer, v: number | bigint) => void) =>
    Buffer.concat(
      list.map((v) => {
        const b = Buffer.alloc(size);
        write(b, typeof v === 'string' ? Number(v) : v);
        return b;
      }),
    );
  switch (vr) {
    case 'US':
      return numeric(2, (b, v) => (little ? b.writeUInt16LE(Number(v)) : b.writeUInt16BE(Number(v))));
    case 'SS':
      return numeric(2, (b, v) => (little ? b.writeInt16LE(Number(v)) : b.writeInt16BE(Number(v))));
    case 'UL':
      return numeric(4, (b, v) => (little ? b.writeUInt32LE(Number(v)) : b.writeUInt32BE(Number(v))));
    case 'SL':
      return numeric(4, (b, v) => (little ? b.writeInt32LE(Number(v)) : b.writeInt32BE(Number(v))));
    case 'FL':
      return numeric(4, (b, v) => (little ? b.writeFloatLE(Number(v)) : b.writeFloatBE(Number(v))));
    case 'FD':
      return numeric(8, (b, v) => (little ? b.writeDoubleLE(Number(v)) : b.writeDoubleBE(Number(v))));
    case 'SV':
      return numeric(8, (b, v) => (little ? b.writeBigInt64LE(BigInt(v)) : b.writeBigInt64BE(BigInt(v))));
    case 'UV':
      return numeric(8, (b, v) => (little ? b.writeBigUInt64LE(BigInt(v)) : b.writeBigUInt64BE(BigInt(v))));
    case 'AT':
      return Buffer.concat(list.map((v) => tagBytes(tagNumber(typeof v === 'bigint' ? Number(v) : v), little)));
    default:
      return Buffer.from(list.map(String).join('\\'), 'latin1');
  }
}

/** One element (header + value), in the given encoding. */
export function encodeElement(el: BuildElement, enc: Enc): Buffer {
  const tag = tagNumber(el.tag);
  let value: Buffer;
  const undefinedLength = el.undefinedLength === true;
  if (el.vr === 'SQ' || el.items) {
    // CP-246: a sequence written as UN holds implicit VR little endian items
    const itemEnc: Enc = el.vr === 'UN' ? { explicit: false, little: true } : enc;
    const items = (el.items ?? []).map((item) => {
      const body = encodeDataset(item, itemEnc);
      const l = itemEnc.little;
      return el.itemUndefinedLength
        ? Buffer.concat([tagBytes(0xfffee000, l), u32(UNDEFINED, l), body, tagBytes(0xfffee00d, l), u32(0, l)])
        : Buffer.concat([tagBytes(0xfffee000, l), u32(body.length, l), body]);
    });
    value = Buffer.concat(items);
  } else {
    const bytes = encodeValue(el.vr, el.value, enc.little);
    value = el.noPadding ? bytes : pad(bytes, el.vr);
  }
  if (undefinedLength) {
    const l = el.vr === 'UN' ? true : enc.little;
    value = Buffer.concat([value, tagBytes(0xfffee0dd, l), u32(0, l)]);
  }
  const length = el.lengthOverride ?? (undefinedLength ? UNDEFINED : value.length);
  let header: Buffer;
  if (!enc.explicit) header = Buffer.concat([tagBytes(tag, enc.little), u32(length, enc.little)]);
  else if (LONG_VRS.has(el.vr)) {
    header = Buffer.concat([tagBytes(tag, enc.little), Buffer.from(el.vr, 'latin1'), Buffer.alloc(2), u32(length, enc.little)]);
  } else {
    header = Buffer.concat([tagBytes(tag, enc.little), Buffer.from(el.vr, 'latin1'), u16(length, enc.little)]);
  }
  return Buffer.concat([header, value]);
}

/** A list of elements, in the given encoding. */
export function encodeDataset(elements: readonly BuildElement[], enc: Enc): Buffer {
  return Buffer.concat(elements.map((el) => encodeElement(el, enc)));
}

/** (7FE0,0010) native or encapsulated (PS3.5 §A.4: offset table item, fragment items, delimiter). */
export function encodePixelData(px: BuildPixelData, enc: Enc): Buffer {
  if ('native' in px) return encodeElement({ tag: 0x7fe00010, vr: px.vr ?? 'OW', value: px.native }, enc);
  const item = (bytes: Uint8Array) => {
    const body = pad(Buffer.from(bytes), 'OB');
    return Buffer.concat([tagBytes(0xfffee000, enc.little), u32(body.length, enc.little), body]);
  };
  const bot = Buffer.concat((px.offsetTable ?? []).map((n) => u32(n, enc.little)));
  const value = Buffer.concat([item(bot), ...px.fragments.map(item), tagBytes(0xfffee0dd, enc.little), u32(0, enc.little)]);
  const header = enc.explicit
    ? Buffer.concat([tagBytes(0x7fe00010, enc.little), Buffer.from(px.vr ?? 'OB', 'latin1'), Buffer.alloc(2), u32(UNDEFINED, enc.little)])
    : Buffer.concat([tagBytes(0x7fe00010, enc.little), u32(UNDEFINED, enc.little)]);
  return Buffer.concat([header, value]);
}

/** File meta information (PS3.10 §7.1), explicit VR LE, with a group length. */
export function encodeMeta(transferSyntax: string, meta: BuildMeta = {}): Buffer {
  const le: Enc = { explicit: true, little: true };
  const ts = meta.transferSyntaxUid === undefined ? transferSyntax : meta.transferSyntaxUid;
  const body = encodeDataset(
    [
      { tag: '00020001', vr: 'OB', value: new Uint8Array([0, 1]) },
      { tag: '00020002', vr: 'UI', value: meta.sopClassUid ?? '1.2.840.10008.5.1.4.1.1.7' },
      { tag: '00020003', vr: 'UI', value: meta.sopInstanceUid ?? '1.2.3.4.5.6.7' },
      ...(ts === null ? [] : [{ tag: '00020010', vr: 'UI', value: ts }]),
      { tag: '00020012', vr: 'UI', value: '1.2.3.4' },
    ],
    le,
  );
  const groupLength = encodeElement({ tag: '00020000', vr: 'UL', value: meta.groupLength ?? body.length }, le);
  return Buffer.concat([groupLength, body]);
}

/** A complete synthetic DICOM file. */
export function buildDicom(options: BuildOptions = {}): Buffer {
  const ts = options.transferSyntax ?? EXPLICIT_LE;
  const enc = encodingOf(ts);
  const withMeta = options.meta !== false;
  const parts: Buffer[] = [encodeDataset(options.elements ?? [], enc)];
  if (options.pixelData) parts.push(encodePixelData(options.pixelData, enc));
  if (options.trailing) parts.push(encodeDataset(options.trailing, enc));
  let dataset = Buffer.concat(parts);
  if (ts === DEFLATED_LE) dataset = deflateRawSync(dataset);
  if (!withMeta) return dataset;
  const meta = encodeMeta(ts, typeof options.meta === 'object' ? options.meta : {});
  const preamble = options.preamble === false ? [] : [Buffer.alloc(128), Buffer.from('DICM', 'latin1')];
  return Buffer.concat([...preamble, meta, dataset]);
}

/** A few ordinary top-level elements (ascending), handy as a base. */
export function basicElements(extra: readonly BuildElement[] = []): BuildElement[] {
  return [
    { tag: '00080016', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.7' },
    { tag: '00080018', vr: 'UI', value: '1.2.3.4.5.6.7' },
    { tag: '00080060', vr: 'CS', value: 'OT' },
    { tag: '00100010', vr: 'PN', value: 'Doe^John' },
    { tag: '00100020', vr: 'LO', value: 'PID-1' },
    ...extra,
  ].sort((a, b) => tagNumber(a.tag) - tagNumber(b.tag));
}
