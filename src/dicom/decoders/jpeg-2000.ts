/**
 * JPEG 2000 (ITU-T T.800 / ISO 15444-1), lossless and lossy (PS3.5 A.4.4), decoded by OpenJPEG
 * (inside the dcmjs-codecs WebAssembly module).
 */
import { InvalidPixelDataError } from '../../errors.js';
import type { ImageInfo } from '../image-info.js';
import { type DecodedFrame, decodedSamplesToStoredValues, type FrameCodec, unconvertedPhotometric } from './codec.js';
import { decodeNative } from './native-codecs.js';

export interface J2kHeader {
  /** Image size (Xsiz − XOsiz, Ysiz − YOsiz). */
  readonly columns: number;
  readonly rows: number;
  readonly components: readonly { readonly precision: number; readonly signed: boolean; readonly dx: number; readonly dy: number }[];
  /** COD's multiple component transform flag (T.800 A.6.1, Table A.17): 1 = RCT (5-3) or ICT (9-7) applied. */
  readonly mct: boolean;
}

const SOC = 0xff4f;
const SIZ = 0xff51;
const COD = 0xff52;
const SOT = 0xff90;

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Start of the codestream: 0 for a raw codestream (what PS3.5 A.4.4 asks for), else the content of a JP2 file's 'jp2c' box. */
function codestreamStart(b: Uint8Array): number {
  if (b.length >= 2 && u16(b, 0) === SOC) return 0;
  let pos = 0;
  while (pos + 8 <= b.length) {
    let length = u32(b, pos);
    const type = String.fromCharCode(b[pos + 4]!, b[pos + 5]!, b[pos + 6]!, b[pos + 7]!);
    let header = 8;
    if (length === 1 && pos + 16 <= b.length) {
      length = u32(b, pos + 8) * 2 ** 32 + u32(b, pos + 12);
      header = 16;
    }
    if (type === 'jp2c') return pos + header;
    if (length === 0 || length < header) break;
    pos += length;
  }
  throw new InvalidPixelDataError('JPEG 2000 codestream: no SOC marker (FF4F) and no JP2 codestream box');
}

/** Reads SIZ and COD from the main header (T.800 A.5.1, A.6.1). */
export function readJ2kHeader(bytes: Uint8Array): J2kHeader {
  const fail = (why: string): never => {
    throw new InvalidPixelDataError(`JPEG 2000 codestream: ${why}`);
  };
  const start = codestreamStart(bytes);
  if (bytes.length < start + 4 || u16(bytes, start) !== SOC) fail('does not start with an SOC marker (FF4F)');
  if (u16(bytes, start + 2) !== SIZ) fail('SOC is not followed by an SIZ marker');
  const s = start + 4;
  if (s + 38 > bytes.length) fail('SIZ marker segment truncated');
  const lsiz = u16(bytes, s);
  const csiz = u16(bytes, s + 36);
  if (csiz < 1 || lsiz !== 38 + 3 * csiz || s + lsiz > bytes.length) fail(`SIZ marker segment inconsistent (Lsiz ${lsiz}, Csiz ${csiz})`);
  const columns = u32(bytes, s + 4) - u32(bytes, s + 12);
  const rows = u32(bytes, s + 8) - u32(bytes, s + 16);
  const components = [];
  for (let c = 0; c < csiz; c++) {
    const ssiz = bytes[s + 38 + 3 * c]!;
    components.push({ precision: (ssiz & 0x7f) + 1, signed: (ssiz & 0x80) !== 0, dx: bytes[s + 39 + 3 * c]!, dy: bytes[s + 40 + 3 * c]! });
  }
  let mct = false;
  let pos = s + lsiz;
  while (pos + 4 <= bytes.length) {
    const marker = u16(bytes, pos);
    if (marker === SOT || (marker & 0xff00) !== 0xff00) break;
    const length = u16(bytes, pos + 2);
    if (marker === COD) {
      if (pos + 2 + 10 > bytes.length) fail('COD marker segment truncated');
      mct = bytes[pos + 2 + 2 + 1 + 3]! === 1; // Lcod, Scod, SGcod = progression(1) layers(2) MCT(1)
      break;
    }
    if (length < 2) fail(`marker ${marker.toString(16).toUpperCase()} has length ${length}`);
    pos += 2 + length;
  }
  return { columns, rows, components, mct };
}

/**
 * Decodes one JPEG 2000 frame. With the multiple component transform (YBR_RCT, YBR_ICT, PS3.5
 * A.4.4) OpenJPEG applies its inverse, so those three-component frames come out as RGB.
 */
export function decodeJ2kFrame(encoded: Uint8Array, info: ImageInfo): DecodedFrame {
  const header = readJ2kHeader(encoded);
  const problems: string[] = [];
  // Smaller than Rows × Columns: an unpadded edge tile, placed top left (see decodedSamplesToStoredValues).
  if (header.columns < 1 || header.rows < 1 || header.columns > info.columns || header.rows > info.rows) problems.push(`is ${header.columns}×${header.rows}, the image ${info.columns}×${info.rows}`);
  if (header.components.length !== info.samplesPerPixel) problems.push(`has ${header.components.length} component(s), the image ${info.samplesPerPixel} sample(s) per pixel`);
  if (header.components.some((c) => c.dx !== 1 || c.dy !== 1)) problems.push('has subsampled components');
  const precision = header.components[0]!.precision;
  if (header.components.some((c) => c.precision !== precision)) problems.push('has components of different precisions');
  if (precision > 16 || precision > Math.max(8, info.bitsAllocated)) problems.push(`has ${precision}-bit samples, the image allocates ${info.bitsAllocated} bits`);
  // The decoder writes colour samples one byte each.
  if (info.samplesPerPixel > 1 && precision > 8) problems.push(`has ${precision}-bit colour samples (only 8-bit colour is decoded)`);
  if (problems.length) throw new InvalidPixelDataError(`JPEG 2000 codestream does not match the image attributes: it ${problems.join('; it ')}`);

  const colour = info.samplesPerPixel === 3;
  const pi = info.photometricInterpretation;
  const bytesPerSample = precision > 8 ? 2 : 1;
  const out = decodeNative('DecodeJpeg2000', encoded, {
    columns: header.columns,
    rows: header.rows,
    bitsAllocated: bytesPerSample * 8,
    bitsStored: precision,
    samplesPerPixel: info.samplesPerPixel,
    pixelRepresentation: info.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: pi,
  });
  const values = decodedSamplesToStoredValues(out.bytes, bytesPerSample, info, { codec: 'JPEG 2000', precision, size: header });
  // YBR_ICT / YBR_RCT exist only as "the MCT was applied" (PS3.3 C.7.6.3.1.2): a codestream labelled so
  // but coded without MCT holds untransformed components, which GDCM and dcmtk show as RGB
  // (orthanc-tests/Formats/jp2k91YBR-ICT.dcm; read as YCbCr its colours are false, 11 dB).
  const rgb = colour && (header.mct || pi === 'YBR_ICT' || pi === 'YBR_RCT');
  return { values, photometricInterpretation: rgb ? 'RGB' : unconvertedPhotometric(info) };
}

export const jpeg2000Codec: FrameCodec = { name: 'JPEG 2000', endsWithEoi: true, decode: decodeJ2kFrame };
