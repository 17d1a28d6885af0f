import { describe, expect, it } from 'vitest';
import { fitWithin, resizeArea } from '../../src/dicom/resize.js';

describe('fitWithin (thumbnail size)', () => {
  it('makes the longer side maxSize and rounds the shorter one to the nearest integer', () => {
    expect(fitWithin(300, 100, 64)).toEqual({ width: 64, height: 21 }); // 21.33
    expect(fitWithin(100, 300, 64)).toEqual({ width: 21, height: 64 });
    expect(fitWithin(512, 512, 64)).toEqual({ width: 64, height: 64 });
    expect(fitWithin(200, 130, 100)).toEqual({ width: 100, height: 65 });
    expect(fitWithin(300, 110, 64)).toEqual({ width: 64, height: 23 }); // 23.47
    expect(fitWithin(300, 102, 64)).toEqual({ width: 64, height: 22 }); // 21.76
  });

  it('never enlarges and keeps at least one pixel', () => {
    expect(fitWithin(300, 100, 300)).toEqual({ width: 300, height: 100 });
    expect(fitWithin(300, 100, 5000)).toEqual({ width: 300, height: 100 });
    expect(fitWithin(300, 100, undefined)).toEqual({ width: 300, height: 100 });
    expect(fitWithin(10_000, 1, 10)).toEqual({ width: 10, height: 1 });
    expect(fitWithin(1, 10_000, 1)).toEqual({ width: 1, height: 1 });
  });
});

describe('resizeArea (area averaging / box filter)', () => {
  it('averages whole blocks for an integer factor', () => {
    // 4×2 → 2×1: each output is the mean of a 2×2 block
    const src = Uint8Array.from([0, 10, 100, 200, 20, 30, 50, 50]);
    expect([...resizeArea(src, { width: 4, height: 2 }, { width: 2, height: 1 }, 1)]).toEqual([15, 100]);
  });

  it('weights partly covered pixels by the area covered', () => {
    // 3 → 2: output 0 covers x 0..1.5 (pixel 0 whole, half of pixel 1), output 1 covers 1.5..3
    const src = Uint8Array.from([0, 30, 60]);
    expect([...resizeArea(src, { width: 3, height: 1 }, { width: 2, height: 1 }, 1)]).toEqual([10, 50]);
  });

  it('resamples each channel of RGB on its own', () => {
    const src = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]); // 4×1 RGB
    expect([...resizeArea(src, { width: 4, height: 1 }, { width: 2, height: 1 }, 3)]).toEqual([128, 128, 0, 128, 128, 255]);
  });

  it('keeps 16-bit precision and the sample type, a constant image constant and a ramp monotonic', () => {
    const ramp = Uint16Array.from({ length: 1000 }, (_, i) => i * 65);
    const out = resizeArea(ramp, { width: 1000, height: 1 }, { width: 7, height: 1 }, 1);
    expect(out).toBeInstanceOf(Uint16Array);
    for (let i = 1; i < out.length; i++) expect(out[i]!).toBeGreaterThan(out[i - 1]!);
    // the mean is preserved: (0 + 999) × 65 / 2
    expect(out.reduce((a, b) => a + b, 0) / out.length).toBeCloseTo(999 * 65 / 2, -1);
    const flat = new Uint16Array(97 * 31).fill(65535);
    expect(new Set(resizeArea(flat, { width: 97, height: 31 }, { width: 13, height: 5 }, 1))).toEqual(new Set([65535]));
  });

  it('does not alias a one-pixel checkerboard (it averages to mid-gray)', () => {
    const n = 64;
    const board = Uint8Array.from({ length: n * n }, (_, i) => ((i % n) + Math.floor(i / n)) % 2 ? 255 : 0);
    const out = resizeArea(board, { width: n, height: n }, { width: 10, height: 10 }, 1);
    for (const v of out) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(8);
  });

  it('refuses to enlarge and checks the sample count', () => {
    expect(() => resizeArea(new Uint8Array(4), { width: 2, height: 2 }, { width: 3, height: 2 }, 1)).toThrow(RangeError);
    expect(() => resizeArea(new Uint8Array(3), { width: 2, height: 2 }, { width: 1, height: 1 }, 1)).toThrow(RangeError);
  });
});
