/**
 * The codecs of src/dicom/decoders on small synthetic codestreams (the corpus suites check real
 * files against reference renders). The JPEG, JPEG-LS and JPEG 2000 streams below were made with
 * the encoders of the same WebAssembly module from known samples: a 4×3 gradient.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodedSamplesToStoredValues } from '../../src/dicom/decoders/codec.js';
import { decodeJpegFrame } from '../../src/dicom/decoders/jpeg.js';
import { decodeJ2kFrame, readJ2kHeader } from '../../src/dicom/decoders/jpeg-2000.js';
import { decodeJpegLsFrame } from '../../src/dicom/decoders/jpeg-ls.js';
import { endsWithEoi, readJpegHeader } from '../../src/dicom/decoders/jpeg-markers.js';
import { nativeCodecsWasmPath } from '../../src/dicom/decoders/native-codecs.js';
import { decodeRleFrame, readRleHeader } from '../../src/dicom/decoders/rle.js';
import type { ImageInfo } from '../../src/dicom/image-info.js';
import { findTransferSyntax } from '../../src/dicom/transfer-syntax.js';
import { InvalidPixelDataError } from '../../src/errors.js';
import { imageInfo } from '../helpers/fixtures.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

const GRADIENT_8 = Array.from({ length: 12 }, (_, i) => i * 20);
const GRADIENT_16 = Array.from({ length: 12 }, (_, i) => 1000 + i * 300);
const JLS_8 = hex('ffd8fff7000b080003000401011100ffda0008010100000000801c01c01c0000067c008580080000033e509160ffd9');
const JLS_16 = hex(
  'ffd8fff7000b100003000401011100fff8000d01ffff0012004301140040ffda00080101000000003e7e57cab94cac14ad9532c156b2864ecac0ffd9',
);
const JPEG_LOSSLESS_16 = hex(
  'ffd8ffe000104a46494600010100000100010000ffc3000b100003000401011100ffc400160001010100000000000000000000000000090b0fffda0008010100010000c0f9d2c4b12ca58258962594b04b12c4b3ffd9',
);
const JPEG_LOSSLESS_8 = hex(
  'ffd8ffe000104a46494600010100000100010000ffc3000b080003000401011100ffc400160001010100000000000000000000000000050708ffda0008010100010000cfea28a5414514a828a29fffd9',
);
const J2K_16 = hex(
  'ff4fff5100290000000000040000000300000000000000000000000400000003000000000000000000010f0101ff52000c00000002000004040001ff5c00044080ff640025000143726561746564206279204f70656e4a5045472076657273696f6e20322e352e30ff90000a0000000000280001ff93cffc285408ec64709016f364b5a554bc43289a6a6c01be2df3c0ffd9',
);

function info(overrides: Partial<ImageInfo> = {}): ImageInfo {
  return imageInfo({ rows: 3, ...overrides });
}

describe('transfer syntax registry → codecs (PS3.5 A.4)', () => {
  it('gives every JPEG, JPEG-LS, JPEG 2000 and RLE transfer syntax a codec, and none to MPEG or unknown ones', () => {
    const codec = (uid: string) => findTransferSyntax(uid)?.codec?.name;
    expect(['50', '51', '57', '70'].map((s) => codec(`1.2.840.10008.1.2.4.${s}`))).toEqual(['JPEG', 'JPEG', 'JPEG', 'JPEG']);
    expect(['80', '81'].map((s) => codec(`1.2.840.10008.1.2.4.${s}`))).toEqual(['JPEG-LS', 'JPEG-LS']);
    expect(['90', '91'].map((s) => codec(`1.2.840.10008.1.2.4.${s}`))).toEqual(['JPEG 2000', 'JPEG 2000']);
    expect(codec('1.2.840.10008.1.2.5')).toBe('RLE');
    expect(findTransferSyntax('1.2.840.10008.1.2.4.100')?.decodable).toBe(false);
    expect(findTransferSyntax('1.2.840.10008.1.2.4.50')?.decodable).toBe(true);
  });
});

describe('dcmjs-codecs WebAssembly module (the binding relies on its internal ABI)', () => {
  it('is the pinned version and exports what the binding calls', () => {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve('dcmjs-codecs/package.json'), 'utf8')) as { version: string };
    const project = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    // An exact pin: upgrading means re-checking the ABI below and the corpus renders.
    expect(project.dependencies['dcmjs-codecs']).toBe(pkg.version);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(nativeCodecsWasmPath()))).map((e) => e.name);
    for (const name of ['CreateCodecsContext', 'DecodeRle', 'DecodeJpeg', 'DecodeJpegLs', 'DecodeJpeg2000', 'GetDecodedBuffer', 'SetConvertColorspaceToRgb']) {
      expect(exports).toContain(name);
    }
  });
});

describe('JPEG, JPEG-LS and JPEG 2000 decoders', () => {
  it('JPEG-LS lossless, 8 and 16 bits (T.87)', () => {
    expect(Array.from(decodeJpegLsFrame(JLS_8, info({ bitsAllocated: 8, bitsStored: 8, highBit: 7 })).values)).toEqual(GRADIENT_8);
    const decoded = decodeJpegLsFrame(JLS_16, info());
    expect(Array.from(decoded.values)).toEqual(GRADIENT_16);
    expect(decoded.photometricInterpretation).toBe('MONOCHROME2');
  });

  it('JPEG lossless process 14 SV1, 16 bits (T.81 H)', () => {
    expect(Array.from(decodeJpegFrame(JPEG_LOSSLESS_16, info()).values)).toEqual(GRADIENT_16);
  });

  it('8-bit JPEG in an image that allocates 16 bits (the library alone gets this wrong)', () => {
    // Given the data set's BitsAllocated 16, dcmjs-codecs' JPEG decoder writes the 8-bit samples
    // packed two per word, with half of each row left 0 (read as 16-bit: 5120, 15400, 0, 0, 25680, …);
    // it is told the codestream's sample width (8) and the samples are widened here.
    const image = info({ bitsAllocated: 16, bitsStored: 8, highBit: 7 });
    expect(Array.from(decodeJpegFrame(JPEG_LOSSLESS_8, image).values)).toEqual(GRADIENT_8);
  });

  it('JPEG 2000 reversible, 16 bits (T.800)', () => {
    expect(readJ2kHeader(J2K_16)).toMatchObject({ columns: 4, rows: 3, mct: false, components: [{ precision: 16, signed: false, dx: 1, dy: 1 }] });
    expect(Array.from(decodeJ2kFrame(J2K_16, info()).values)).toEqual(GRADIENT_16);
  });

  it('masks to Bits Stored and sign-extends decoded samples as native ones (PS3.5 §8.1.1)', () => {
    // 16-bit codestream, image declares 16 bits signed: values ≥ 32768 would be negative; these are not.
    expect(Array.from(decodeJpegLsFrame(JLS_16, info({ pixelRepresentation: 1 })).values)).toEqual(GRADIENT_16);
    const signed8 = decodeJpegLsFrame(JLS_8, info({ bitsAllocated: 8, bitsStored: 8, highBit: 7, pixelRepresentation: 1 }));
    expect(Array.from(signed8.values)).toEqual(GRADIENT_8.map((v) => (v > 127 ? v - 256 : v)));
  });

  it('InvalidPixelDataError when the codestream does not match the image attributes (PS3.5 §8.2)', () => {
    expect(() => decodeJpegLsFrame(JLS_16, info({ columns: 3 }))).toThrow(/is 4×3, the image 3×3/);
    expect(() => decodeJpegFrame(JPEG_LOSSLESS_16, info({ samplesPerPixel: 3, photometricInterpretation: 'RGB' }))).toThrow(/1 component/);
    expect(() => decodeJpegLsFrame(JLS_16, info({ bitsAllocated: 8, bitsStored: 8, highBit: 7 }))).toThrow(/16-bit samples, the image allocates 8/);
    expect(() => decodeJ2kFrame(J2K_16, info({ rows: 2 }))).toThrow(InvalidPixelDataError);
    expect(() => decodeJpegFrame(JLS_16, info())).toThrow(/scan before any frame header/);
  });

  it('InvalidPixelDataError for garbage, truncated and corrupt codestreams; the next frame decodes', () => {
    expect(() => decodeJpegFrame(new Uint8Array([1, 2, 3, 4]), info())).toThrow(/does not start with an SOI marker/);
    expect(() => decodeJ2kFrame(new Uint8Array(64), info())).toThrow(InvalidPixelDataError);
    // Cut before the EOI: refused before CharLS, which would spend seconds reading past the end.
    const started = performance.now();
    expect(() => decodeJpegLsFrame(JLS_16.subarray(0, 50), info())).toThrow(/truncated/);
    expect(performance.now() - started).toBeLessThan(1000);
    // Scan data replaced by bytes CharLS rejects: the module traps; the instance is replaced.
    const corrupt = JLS_16.slice();
    corrupt.fill(0xff, 37, 50);
    expect(() => decodeJpegLsFrame(corrupt, info())).toThrow(InvalidPixelDataError);
    const j2k = J2K_16.slice(0, 100);
    expect(() => decodeJ2kFrame(j2k, info())).toThrow(InvalidPixelDataError);
    expect(Array.from(decodeJpegLsFrame(JLS_16, info()).values)).toEqual(GRADIENT_16);
  });

  it('endsWithEoi: FFD9 last, before 00 or FF padding', () => {
    expect(endsWithEoi(new Uint8Array([1, 0xff, 0xd9]))).toBe(true);
    expect(endsWithEoi(new Uint8Array([0xff, 0xd9, 0]))).toBe(true);
    expect(endsWithEoi(new Uint8Array([0xff, 0xd9, 0xff]))).toBe(true);
    expect(endsWithEoi(new Uint8Array([0xff, 0xd9, 1]))).toBe(false);
    expect(endsWithEoi(new Uint8Array([0xd9]))).toBe(false);
  });

  it('readJpegHeader reads SOF and the first SOS, skipping APPn segments (T.81 B.2)', () => {
    expect(readJpegHeader(JPEG_LOSSLESS_16, new Set([0xc3]), 'JPEG')).toMatchObject({ frameMarker: 0xc3, precision: 16, rows: 3, columns: 4, components: 1, scanComponents: 1 });
    expect(readJpegHeader(JLS_8, new Set([0xf7]), 'JPEG-LS')).toMatchObject({ precision: 8, interleaveMode: 0 });
    expect(() => readJpegHeader(JLS_8.subarray(0, 10), new Set([0xf7]), 'JPEG-LS')).toThrow(/runs past the end/);
  });
});

describe('decodedSamplesToStoredValues', () => {
  it('places a frame smaller than Rows × Columns at the top left (an unpadded edge tile, PS3.3 C.8.12.4.1.4)', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const v = decodedSamplesToStoredValues(bytes, 1, info({ rows: 3, columns: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7 }), { codec: 'test', size: { columns: 2, rows: 2 } });
    expect(Array.from(v)).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
  });

  it('keeps samples above Bits Stored when the codestream precision is larger (no wrap-around)', () => {
    const bytes = new Uint8Array(new Uint16Array([4124, 4095, 0, 1]).buffer);
    const image = info({ rows: 2, columns: 2, bitsStored: 12, highBit: 11 });
    expect(Array.from(decodedSamplesToStoredValues(bytes, 2, image, { codec: 'test' }))).toEqual([28, 4095, 0, 1]);
    expect(Array.from(decodedSamplesToStoredValues(bytes, 2, image, { codec: 'test', precision: 16 }))).toEqual([4124, 4095, 0, 1]);
  });

  it('interleaves planar output and refuses output shorter than the frame', () => {
    const planar = new Uint8Array([1, 2, 10, 20, 100, 200]);
    const rgb = info({ rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometricInterpretation: 'RGB' });
    expect(Array.from(decodedSamplesToStoredValues(planar, 1, rgb, { codec: 'test', planar: true }))).toEqual([1, 10, 100, 2, 20, 200]);
    expect(() => decodedSamplesToStoredValues(planar.subarray(0, 5), 1, rgb, { codec: 'test' })).toThrow(/returned 5 bytes/);
  });
});

/** An RLE frame (PS3.5 G.3): header with segment offsets, then the PackBits segments. */
function rleFrame(segments: number[][]): Uint8Array {
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    view.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  return Uint8Array.from([...header, ...segments.flat()]);
}
/** PackBits literal run (G.3.1: header n ≥ 0 → n + 1 bytes follow). */
const literal = (...bytes: number[]) => [bytes.length - 1, ...bytes];
/** PackBits replicate run (G.3.1: header −n → the next byte n + 1 times). */
const repeat = (count: number, byte: number) => [(257 - count) & 0xff, byte];

describe('RLE Lossless (PS3.5 Annex G)', () => {
  it('decodes 16-bit samples from a most and a least significant byte segment', () => {
    const frame = rleFrame([literal(0x01, 0x02, 0x80), literal(0x00, 0x03, 0xff)]);
    expect(Array.from(decodeRleFrame(frame, info({ rows: 1, columns: 3 })).values)).toEqual([0x0100, 0x0203, 0x80ff]);
    expect(Array.from(decodeRleFrame(frame, info({ rows: 1, columns: 3, pixelRepresentation: 1 })).values)).toEqual([0x0100, 0x0203, 0x80ff - 0x10000]);
  });

  it('interleaves one segment per colour sample (segments are planes by nature)', () => {
    const frame = rleFrame([repeat(2, 10), literal(20, 21), repeat(2, 30)]);
    const rgb = info({ rows: 1, columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometricInterpretation: 'RGB', planarConfiguration: 1 });
    const decoded = decodeRleFrame(frame, rgb);
    expect(Array.from(decoded.values)).toEqual([10, 20, 30, 10, 21, 30]);
    expect(decoded.photometricInterpretation).toBe('RGB');
  });

  it('unpacks 1-bit frames (one segment of packed bits, least significant bit first)', () => {
    const frame = rleFrame([literal(0b00000101, 0b1)]);
    const seg = info({ rows: 3, columns: 3, bitsAllocated: 1, bitsStored: 1, highBit: 0 });
    expect(Array.from(decodeRleFrame(frame, seg).values)).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 1]);
  });

  it('InvalidPixelDataError for a header that does not fit the image or the frame', () => {
    expect(() => readRleHeader(new Uint8Array(10), 1)).toThrow(/shorter than its 64-byte header/);
    expect(() => decodeRleFrame(rleFrame([literal(1)]), info({ rows: 1, columns: 1 }))).toThrow(/declares 1 segment\(s\); the image needs 2/);
    const bad = rleFrame([literal(1), literal(2)]);
    new DataView(bad.buffer).setUint32(8, 4000, true);
    expect(() => decodeRleFrame(bad, info({ rows: 1, columns: 1 }))).toThrow(/segment 2 offset 4000 is invalid/);
    const overrun = rleFrame([[5, 1, 2]]); // literal of 6 bytes with 2 present
    expect(() => decodeRleFrame(overrun, info({ rows: 1, columns: 6, bitsAllocated: 8, bitsStored: 8, highBit: 7 }))).toThrow(InvalidPixelDataError);
  });
});
