/** The output stage: 8/16-bit gray and RGB PNG encoding, 16-bit VOI output (PS3.3 C.11.2), thumbnails through renderFrame. */
import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { type DicomElement, ElementList } from '../../src/dicom/dataset.js';
import { encodePng } from '../../src/dicom/png.js';
import { renderFrame } from '../../src/dicom/render.js';
import type { DicomStructure } from '../../src/dicom/scan.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, findTransferSyntax } from '../../src/dicom/transfer-syntax.js';
import { applyVoiLut, presentationRange, windowLinear, windowLinearExact, windowSigmoid } from '../../src/dicom/voi.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { decodePng } from '../helpers/psnr.js';

const pixelsOf = (png: Buffer) => {
  const d = decodePng(png);
  return { ...d, values: Array.from({ length: d.width * d.height }, (_, i) => d.data[i * 4]!) };
};

describe('encodePng', () => {
  it('writes 8-bit gray (colour type 0) and RGB (colour type 2)', () => {
    const gray = pixelsOf(encodePng(Uint8Array.from([0, 1, 254, 255]), 2, 2, 1));
    expect([gray.colorType, gray.depth, gray.width, gray.height]).toEqual([0, 8, 2, 2]);
    expect(gray.values).toEqual([0, 1, 254, 255]);
    const rgb = decodePng(encodePng(Uint8Array.from([255, 0, 0, 0, 0, 255]), 2, 1, 3));
    expect([rgb.colorType, rgb.depth]).toEqual([2, 8]);
    expect(Array.from(rgb.data as ArrayLike<number>).slice(0, 8)).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
  });

  it('writes 16-bit gray with every value exact (PNG stores big-endian samples)', () => {
    const values = [0, 1, 255, 256, 0x1234, 0xfedc, 65534, 65535];
    const png = pixelsOf(encodePng(Uint16Array.from(values), 4, 2, 1));
    expect([png.colorType, png.depth]).toEqual([0, 16]);
    expect(png.values).toEqual(values);
  });

  it('honours the offset of a 16-bit view into a larger buffer', () => {
    const backing = Uint16Array.from([9, 9, 100, 200, 300, 400]);
    expect(pixelsOf(encodePng(backing.subarray(2), 2, 2, 1)).values).toEqual([100, 200, 300, 400]);
  });

  it('refuses a sample count that does not match the size', () => {
    expect(() => encodePng(new Uint8Array(3), 2, 2, 1)).toThrow(RangeError);
  });
});

describe('16-bit VOI output (PS3.3 C.11.2.1.2, same formulas over 0..65535)', () => {
  const NORMAL16 = { low: 0, high: 65535 };
  const run = (f: typeof windowLinear, values: number[], c: number, w: number, range = NORMAL16) =>
    [...f(Float64Array.from(values), { center: c, width: w }, range, new Uint16Array(values.length))];

  it('LINEAR: borders at 0 and 65535, inside ((x − (c − 0.5)) / (w − 1) + 0.5) × 65535 truncated', () => {
    // c = 40, w = 80: left border 0, right border 79
    expect(run(windowLinear, [-10, 0, 79, 80], 40, 80)).toEqual([0, 0, 65535, 65535]);
    expect(run(windowLinear, [0.5, 39.5], 40, 80)).toEqual([Math.trunc(((0.5 - 39.5) / 79 + 0.5) * 65535), Math.trunc(0.5 * 65535)]);
    // 8-bit and 16-bit agree to within one 8-bit level
    const xs = Array.from({ length: 80 }, (_, i) => i);
    const eight = [...windowLinear(Float64Array.from(xs), { center: 40, width: 80 }, { low: 0, high: 255 }, new Uint8Array(80))];
    run(windowLinear, xs, 40, 80).forEach((v, i) => expect(Math.abs(v / 257 - eight[i]!)).toBeLessThanOrEqual(1));
  });

  it('inverted polarity runs 65535 → 0; LINEAR_EXACT and SIGMOID scale the same way', () => {
    expect(run(windowLinear, [-10, 80], 40, 80, { low: 65535, high: 0 })).toEqual([65535, 0]);
    expect(run(windowLinearExact, [0, 40, 80], 40, 80)).toEqual([0, 32767, 65535]);
    expect(run(windowSigmoid, [40], 40, 80)).toEqual([32767]);
  });

  it('presentationRange gives the 16-bit range for MONOCHROME1 and MONOCHROME2', () => {
    expect(presentationRange('MONOCHROME2', new ElementList([]), 65535)).toEqual({ low: 0, high: 65535 });
    expect(presentationRange('MONOCHROME1', new ElementList([]), 65535)).toEqual({ low: 65535, high: 0 });
  });

  it('a VOI LUT spans 0..65535 (v × 65535 / (2ⁿ − 1)); 8-bit output keeps dcmtk\'s v × 256 / 2ⁿ', () => {
    const lut = { firstMapped: 0, bits: 12, data: Uint16Array.from([0, 1, 2048, 4095]) } as Parameters<typeof applyVoiLut>[1];
    expect([...applyVoiLut([0, 1, 2, 3, 99], lut, NORMAL16, new Uint16Array(5))]).toEqual([0, 16, 32775, 65535, 65535]);
    expect([...applyVoiLut([0, 3], lut, { low: 65535, high: 0 }, new Uint16Array(2))]).toEqual([65535, 0]);
    expect([...applyVoiLut([0, 1, 2, 3], lut, { low: 0, high: 255 }, new Uint8Array(4))]).toEqual([0, 0, 128, 255]);
  });
});

describe('renderFrame output options', () => {
  const el = (tag: string, vr: string, values: unknown[]): DicomElement => ({ tag, vr, values, length: 0 });
  function image(rows: number, columns: number, values: number[], extra: DicomElement[] = []) {
    const pixels = new Uint8Array(Int16Array.from(values).buffer);
    const structure: DicomStructure = {
      hasPreamble: true,
      hasFileMeta: true,
      declaredTransferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
      transferSyntax: findTransferSyntax(EXPLICIT_VR_LITTLE_ENDIAN)!,
      datasetOffset: 132,
      headerEnd: 0,
      pixelData: { vr: 'OW', valueOffset: 0, length: pixels.length },
    };
    const dataset = new ElementList([
      el('00280002', 'US', [1]),
      el('00280004', 'CS', ['MONOCHROME2']),
      el('00280010', 'US', [rows]),
      el('00280011', 'US', [columns]),
      el('00280100', 'US', [16]),
      el('00280101', 'US', [16]),
      el('00280102', 'US', [15]),
      el('00280103', 'US', [1]),
      ...extra,
    ]);
    return { dataset, structure, source: new BufferByteSource(pixels) };
  }

  it('bitDepth 16 keeps more than 256 levels of a smooth ramp, with the window ends at 0 and 65535', () => {
    const img = image(1, 2000, Array.from({ length: 2000 }, (_, i) => i - 500)); // −500 … 1499
    const r = renderFrame(img.dataset, img.structure, img.source, { frame: 1, window: { center: 500, width: 1000 }, bitDepth: 16 });
    expect([r.bitDepth, r.width, r.height]).toEqual([16, 2000, 1]);
    const d = pixelsOf(r.png);
    expect(d.depth).toBe(16);
    expect(new Set(d.values).size).toBeGreaterThan(900);
    expect(d.values[0]).toBe(0);
    expect(d.values[500]).toBe(0); // x = 0 ≤ c − 0.5 − (w − 1)/2 = 0
    expect(d.values[1499]).toBe(65535); // x = 999 > 999 is false: the formula gives 65535 too
    expect(d.values[1999]).toBe(65535);
    const eight = pixelsOf(renderFrame(img.dataset, img.structure, img.source, { frame: 1, window: { center: 500, width: 1000 } }).png);
    expect(eight.depth).toBe(8);
    expect(new Set(eight.values).size).toBeLessThanOrEqual(256);
    d.values.forEach((v, i) => expect(Math.abs(v / 257 - eight.values[i]!)).toBeLessThanOrEqual(1));
  });

  it('maxSize fits the output, keeping the aspect ratio, and averages areas', () => {
    // 30 × 10, left half 0 (black), right half 1000 (white) under a min–max window
    const values = Array.from({ length: 300 }, (_, i) => (i % 30 < 15 ? 0 : 1000));
    const img = image(10, 30, values);
    const r = renderFrame(img.dataset, img.structure, img.source, { frame: 1, maxSize: 6 });
    expect([r.width, r.height]).toEqual([6, 2]);
    expect(pixelsOf(r.png).values).toEqual([0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
    const odd = renderFrame(img.dataset, img.structure, img.source, { frame: 1, maxSize: 4 }); // 4 × 1.33 → 4 × 1
    expect([odd.width, odd.height]).toEqual([4, 1]);
    // output pixel 1 covers x 7.5..15 (all black) and pixel 2 covers 15..22.5 (all white)
    expect(pixelsOf(odd.png).values).toEqual([0, 0, 255, 255]);
    const same = renderFrame(img.dataset, img.structure, img.source, { frame: 1, maxSize: 30 });
    expect([same.width, same.height]).toEqual([30, 10]);
  });

  it('rejects a bad maxSize or bitDepth with InvalidArgumentError', () => {
    const img = image(1, 2, [0, 1]);
    for (const bad of [{ maxSize: 0 }, { maxSize: 1.5 }, { maxSize: 70_000 }, { bitDepth: 12 as 8 }]) {
      expect(() => renderFrame(img.dataset, img.structure, img.source, { frame: 1, ...bad })).toThrow(InvalidArgumentError);
    }
  });
});
