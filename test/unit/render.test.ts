import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { type DicomElement, ElementList } from '../../src/dicom/dataset.js';
import { renderFrame } from '../../src/dicom/render.js';
import type { DicomStructure } from '../../src/dicom/scan.js';
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, findTransferSyntax, transferSyntaxOrFallback } from '../../src/dicom/transfer-syntax.js';
import {
  FrameOutOfRangeError,
  InconsistentImageError,
  InvalidArgumentError,
  InvalidPixelDataError,
  NoPixelDataError,
  UnsupportedTransferSyntaxError,
} from '../../src/errors.js';
import { decodePng } from '../helpers/psnr.js';

const el = (tag: string, vr: string, values: unknown[], extra: Partial<DicomElement> = {}): DicomElement => ({ tag, vr, values, length: 0, ...extra });
const us = (tag: string, v: number) => el(tag, 'US', [v]);

/** Pixel data is placed at offset 16 of the source, to check offsets are honoured. */
const OFFSET = 16;

function image(opts: {
  rows: number;
  columns: number;
  pixels: Uint8Array;
  photometric?: string;
  bits?: [allocated: number, stored: number, highBit: number];
  signed?: boolean;
  samples?: number;
  planar?: number;
  frames?: number;
  extra?: DicomElement[];
  uid?: string;
  vr?: string;
}) {
  const [ba, bs, hb] = opts.bits ?? [16, 16, 15];
  const elements = [
    us('00280002', opts.samples ?? 1),
    el('00280004', 'CS', [opts.photometric ?? 'MONOCHROME2']),
    us('00280010', opts.rows),
    us('00280011', opts.columns),
    us('00280100', ba),
    us('00280101', bs),
    us('00280102', hb),
    us('00280103', opts.signed ? 1 : 0),
    ...(opts.planar !== undefined ? [us('00280006', opts.planar)] : []),
    ...(opts.frames !== undefined ? [el('00280008', 'IS', [opts.frames])] : []),
    ...(opts.extra ?? []),
  ];
  const uid = opts.uid ?? EXPLICIT_VR_LITTLE_ENDIAN;
  const structure: DicomStructure = {
    hasPreamble: true,
    hasFileMeta: true,
    declaredTransferSyntaxUid: uid,
    transferSyntax: findTransferSyntax(uid)!,
    datasetOffset: 132,
    headerEnd: OFFSET,
    pixelData: { vr: opts.vr ?? 'OW', valueOffset: OFFSET, length: opts.pixels.length },
  };
  const bytes = new Uint8Array(OFFSET + opts.pixels.length);
  bytes.set(opts.pixels, OFFSET);
  return { dataset: new ElementList(elements), structure, source: new BufferByteSource(bytes) };
}

const le16 = (...values: number[]) => new Uint8Array(Int16Array.from(values).buffer);
const grayPixels = (png: Buffer) => {
  const d = decodePng(png);
  expect(d.colorType).toBe(0);
  return Array.from({ length: d.width * d.height }, (_, i) => d.data[i * 4]!);
};

describe('renderFrame, grayscale (PS3.3 C.11)', () => {
  it('rescales then applies the file window and encodes an 8-bit gray PNG', () => {
    // CT: stored 0, 1024, 1064, 2024 with intercept −1024 → −1024, 0, 40, 1000 HU; window 40/400.
    const img = image({
      rows: 2,
      columns: 2,
      pixels: le16(0, 1024, 1064, 2024),
      extra: [el('00281050', 'DS', [40, 300]), el('00281051', 'DS', [400, 2000]), el('00281052', 'DS', [-1024]), el('00281053', 'DS', [1])],
    });
    const r = renderFrame(img.dataset, img.structure, img.source, { frame: 1 });
    expect(r).toMatchObject({ width: 2, height: 2, channels: 1 });
    // ((0 − 39.5)/399 + 0.5)×255 = 102.2; c = 40 → ((40 − 39.5)/399 + .5)×255 = 127.8
    expect(grayPixels(r.png)).toEqual([0, 102, 127, 255]);
  });

  it("uses the caller's window instead of the file's", () => {
    const img = image({ rows: 1, columns: 3, pixels: le16(0, 50, 100), extra: [el('00281050', 'DS', [0]), el('00281051', 'DS', [1])] });
    // c = 50, w = 100: borders 0 and 99; 50 → ((50 − 49.5)/99 + 0.5) × 255 = 128.8
    const r = renderFrame(img.dataset, img.structure, img.source, { frame: 1, window: { center: 50, width: 100 } });
    expect(grayPixels(r.png)).toEqual([0, 128, 255]);
  });

  it('falls back to the min-max window of the frame', () => {
    const img = image({ rows: 1, columns: 3, pixels: le16(-100, 0, 100), signed: true });
    expect(grayPixels(renderFrame(img.dataset, img.structure, img.source, { frame: 1 }).png)).toEqual([0, 127, 255]);
  });

  it('inverts MONOCHROME1 (PS3.3 C.7.6.3.1.2)', () => {
    const img = image({ rows: 1, columns: 3, pixels: le16(-100, 0, 100), signed: true, photometric: 'MONOCHROME1' });
    expect(grayPixels(renderFrame(img.dataset, img.structure, img.source, { frame: 1 }).png)).toEqual([255, 127, 0]);
  });

  it('renders the requested frame only from its own bytes', () => {
    const img = image({ rows: 1, columns: 2, frames: 3, pixels: le16(0, 0, 0, 10, 0, 0), extra: [el('00281050', 'DS', [5.5]), el('00281051', 'DS', [11])] });
    expect(grayPixels(renderFrame(img.dataset, img.structure, img.source, { frame: 2 }).png)).toEqual([0, 255]);
    expect(grayPixels(renderFrame(img.dataset, img.structure, img.source, { frame: 3 }).png)).toEqual([0, 0]);
  });

  it('reads explicit VR big endian pixel data', () => {
    const be = new Uint8Array([0x00, 0x00, 0x01, 0x00]); // 0, 256 (little endian would read 0, 1)
    const img = image({ rows: 1, columns: 2, pixels: be, uid: EXPLICIT_VR_BIG_ENDIAN });
    const window = { center: 128, width: 256 };
    expect(grayPixels(renderFrame(img.dataset, img.structure, img.source, { frame: 1, window }).png)).toEqual([0, 255]);
  });

  it('renders a 1-bit segmentation frame (PS3.5 §8.1.1)', () => {
    const img = image({ rows: 1, columns: 8, bits: [1, 1, 0], pixels: new Uint8Array([0b00000101]) });
    expect(grayPixels(renderFrame(img.dataset, img.structure, img.source, { frame: 1 }).png)).toEqual([255, 0, 255, 0, 0, 0, 0, 0]);
  });

  it('renders 512×512 16-bit CT quickly', () => {
    const px = new Int16Array(512 * 512);
    for (let i = 0; i < px.length; i++) px[i] = (i * 7) % 4096;
    const img = image({ rows: 512, columns: 512, pixels: new Uint8Array(px.buffer), extra: [el('00281050', 'DS', [40]), el('00281051', 'DS', [400]), el('00281052', 'DS', [-1024]), el('00281053', 'DS', [1])] });
    renderFrame(img.dataset, img.structure, img.source, { frame: 1 }); // warm up
    const t0 = performance.now();
    const r = renderFrame(img.dataset, img.structure, img.source, { frame: 1 });
    const ms = performance.now() - t0;
    expect(r.width).toBe(512);
    expect(ms).toBeLessThan(100);
  });
});

describe('renderFrame, colour (PS3.3 C.7.6.3.1.2)', () => {
  it('renders RGB with planar configuration 1 as an RGB PNG', () => {
    const img = image({ rows: 1, columns: 2, samples: 3, planar: 1, photometric: 'RGB', bits: [8, 8, 7], pixels: new Uint8Array([255, 0, 10, 20, 30, 40]) });
    const r = renderFrame(img.dataset, img.structure, img.source, { frame: 1 });
    expect(r.channels).toBe(3);
    const d = decodePng(r.png);
    expect(d.colorType).toBe(2);
    expect([...Array.from(d.data).slice(0, 8)]).toEqual([255, 10, 30, 255, 0, 20, 40, 255]);
  });

  it('converts YBR_FULL to RGB', () => {
    // Y=128, Cb=Cr=128 is mid gray: dcmtk's constants (offsets as fractions of 255) give 128.7, 127.5, 128.9,
    // truncated. Y=76, Cb=85, Cr=255 is about pure red.
    const img = image({ rows: 1, columns: 2, samples: 3, planar: 0, photometric: 'YBR_FULL', bits: [8, 8, 7], pixels: new Uint8Array([128, 128, 128, 76, 85, 255]) });
    const d = decodePng(renderFrame(img.dataset, img.structure, img.source, { frame: 1 }).png);
    expect(Array.from(d.data).slice(0, 3)).toEqual([128, 127, 128]);
    const [r, g, b] = Array.from(d.data).slice(4, 7);
    expect(r).toBeGreaterThan(250);
    expect(g).toBeLessThan(3);
    expect(b).toBeLessThan(3);
  });

  it('converts RLE-decoded YBR_FULL like native YBR_FULL (RLE has no colour transform, PS3.5 G.2)', () => {
    // One segment per sample: Y, Cb, Cr (PS3.5 G.3.1 literal runs), the same pixels as above.
    const header = new Uint8Array(64);
    const view = new DataView(header.buffer);
    view.setUint32(0, 3, true);
    [64, 67, 70].forEach((offset, i) => view.setUint32(4 + 4 * i, offset, true));
    const frame = new Uint8Array([...header, 1, 128, 76, 1, 128, 85, 1, 128, 255, 0]);
    const img = image({ rows: 1, columns: 2, samples: 3, planar: 0, photometric: 'YBR_FULL', bits: [8, 8, 7], pixels: frame, uid: '1.2.840.10008.1.2.5' });
    const structure = { ...img.structure, pixelData: { ...img.structure.pixelData!, length: null, offsetTable: [], fragments: [{ offset: OFFSET, length: frame.length }] } };
    const d = decodePng(renderFrame(img.dataset, structure, img.source, { frame: 1 }).png);
    expect(Array.from(d.data).slice(0, 3)).toEqual([128, 127, 128]);
    expect(Array.from(d.data)[4]).toBeGreaterThan(250);
  });

  it('maps PALETTE COLOR through its LUTs (descriptor: entries, first mapped value, bits)', () => {
    const lut = (vals: number[]) => new Uint8Array(Uint16Array.from(vals).buffer);
    const extra = [
      el('00281101', 'US', [3, 10, 16]),
      el('00281102', 'US', [3, 10, 16]),
      el('00281103', 'US', [3, 10, 16]),
      el('00281201', 'OW', [], { bytes: lut([0xff00, 0, 0]) }),
      el('00281202', 'OW', [], { bytes: lut([0, 0xff00, 0]) }),
      el('00281203', 'OW', [], { bytes: lut([0, 0, 0xffff]) }),
    ];
    const img = image({ rows: 1, columns: 3, photometric: 'PALETTE COLOR', bits: [8, 8, 7], pixels: new Uint8Array([10, 11, 200]), extra });
    const d = decodePng(renderFrame(img.dataset, img.structure, img.source, { frame: 1 }).png);
    expect(Array.from(d.data)).toEqual([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
  });
});

describe('renderFrame errors', () => {
  const img = image({ rows: 1, columns: 2, frames: 2, pixels: le16(1, 2, 3, 4) });

  it('FrameOutOfRangeError beyond the last frame', () => {
    expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 3 })).toThrow(FrameOutOfRangeError);
  });

  it('InvalidArgumentError for a bad frame number or window', () => {
    expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 0 })).toThrow(InvalidArgumentError);
    expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 1, window: { center: 0, width: 0 } })).toThrow(/window width must be a finite number > 0/);
    expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 1, window: { center: 0, width: Infinity } })).toThrow(InvalidArgumentError);
    expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 1, window: { center: Number.NaN, width: 1 } })).toThrow(InvalidArgumentError);
  });

  it('UnsupportedTransferSyntaxError naming the UID for a transfer syntax without a decoder (MPEG2, unknown)', () => {
    const mpeg = image({ rows: 1, columns: 2, pixels: le16(1, 2), uid: '1.2.840.10008.1.2.4.100' });
    expect(() => renderFrame(mpeg.dataset, mpeg.structure, mpeg.source, { frame: 1 })).toThrow(UnsupportedTransferSyntaxError);
    expect(() => renderFrame(mpeg.dataset, mpeg.structure, mpeg.source, { frame: 1 })).toThrow(/1\.2\.840\.10008\.1\.2\.4\.100 \(MPEG2/);
    const unknown = { ...mpeg, structure: { ...mpeg.structure, transferSyntax: transferSyntaxOrFallback('1.2.3.4.5') } };
    expect(() => renderFrame(unknown.dataset, unknown.structure, unknown.source, { frame: 1 })).toThrow(/No pixel decoder for transfer syntax 1\.2\.3\.4\.5/);
  });

  it('InvalidPixelDataError for encapsulated pixel data that is not what its transfer syntax says', () => {
    const jpeg = image({ rows: 1, columns: 2, pixels: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), uid: '1.2.840.10008.1.2.4.50' });
    const structure = { ...jpeg.structure, pixelData: { ...jpeg.structure.pixelData!, length: null, offsetTable: [], fragments: [{ offset: OFFSET, length: 4 }] } };
    expect(() => renderFrame(jpeg.dataset, structure, jpeg.source, { frame: 1 })).toThrow(InvalidPixelDataError);
    expect(() => renderFrame(jpeg.dataset, structure, jpeg.source, { frame: 1 })).toThrow(/JPEG codestream: no frame header/);
  });

  it('NoPixelDataError without pixel data', () => {
    expect(() => renderFrame(img.dataset, { ...img.structure, pixelData: null }, img.source, { frame: 1 })).toThrow(NoPixelDataError);
  });

  it('InconsistentImageError when the pixel data is too short', () => {
    const short = image({ rows: 2, columns: 2, pixels: le16(1, 2) });
    expect(() => renderFrame(short.dataset, short.structure, short.source, { frame: 1 })).toThrow(InconsistentImageError);
  });
});
