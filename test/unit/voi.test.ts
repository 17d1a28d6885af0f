import { describe, expect, it } from 'vitest';
import { type DicomElement, ElementList } from '../../src/dicom/dataset.js';
import {
  applyVoiLut,
  minMaxWindow,
  presentationRange,
  readWindow,
  windowLinear,
  windowLinearExact,
  windowSigmoid,
} from '../../src/dicom/voi.js';

const el = (tag: string, vr: string, values: unknown[]): DicomElement => ({ tag, vr, values, length: 0 });
const seq = (tag: string, ...items: ElementList[]): DicomElement => ({ tag, vr: 'SQ', values: [], items, length: 0 });
const NORMAL = { low: 0, high: 255 };
const INVERSE = { low: 255, high: 0 };
const run = (f: typeof windowLinear, values: number[], c: number, w: number, range = NORMAL) =>
  [...f(Float64Array.from(values), { center: c, width: w }, range, new Uint8Array(values.length))];

describe('windowLinear (PS3.3 C.11.2.1.2.1)', () => {
  it('maps the borders as the standard says: x ≤ c − 0.5 − (w−1)/2 → 0, x > c − 0.5 + (w−1)/2 → 255', () => {
    // c = 40, w = 80: left border 0, right border 79.
    expect(run(windowLinear, [-10, 0, 79, 80], 40, 80)).toEqual([0, 0, 255, 255]);
    // just inside the left border: ((0.5 − 39.5)/79 + 0.5) × 255 = 1.61 → 1
    expect(run(windowLinear, [0.5], 40, 80)).toEqual([1]);
    // the middle: x = 39.5 → 127.5 → 127 (truncated, as dcmtk)
    expect(run(windowLinear, [39.5], 40, 80)).toEqual([127]);
  });

  it('width 1 is a threshold at c − 0.5', () => {
    expect(run(windowLinear, [9, 9.5, 9.6, 10], 10, 1)).toEqual([0, 0, 255, 255]);
  });

  it('MONOCHROME1 / INVERSE output runs from 255 down to 0', () => {
    expect(run(windowLinear, [-10, 0.5, 79, 80], 40, 80, INVERSE)).toEqual([255, 253, 0, 0]);
  });

  it('the CT window 40/400 puts water (0 HU) near mid-gray and bone (1000 HU) at white', () => {
    // ((0 − 39.5)/399 + 0.5) × 255 = 102.2
    expect(run(windowLinear, [-1000, 0, 1000], 40, 400)).toEqual([0, 102, 255]);
  });
});

describe('windowLinearExact (PS3.3 C.11.2.1.3.2)', () => {
  it('has no −0.5 / −1 terms: borders at c ± w/2', () => {
    // c = 50, w = 100: x ≤ 0 → 0, x > 100 → 255, x = 50 → 127.5 → 127
    expect(run(windowLinearExact, [0, 0.1, 50, 100, 100.1], 50, 100)).toEqual([0, 0, 127, 255, 255]);
    expect(run(windowLinearExact, [25], 50, 100)).toEqual([63]);
  });
});

describe('windowSigmoid (PS3.3 C.11.2.1.3.1)', () => {
  it('is 127.5 at the center and saturates far away', () => {
    expect(run(windowSigmoid, [50, -1e6, 1e6], 50, 100)).toEqual([127, 0, 255]);
    // x = c + w/4: 255 / (1 + e^−1) = 186.4
    expect(run(windowSigmoid, [75], 50, 100)).toEqual([186]);
  });
});

describe('minMaxWindow (dcmtk +Wm)', () => {
  it('maps the minimum to 0 and the maximum to 255 with the LINEAR function', () => {
    const values = Float64Array.from([-1024, 0, 3071]);
    const w = minMaxWindow(values);
    expect(w).toEqual({ center: (-1024 + 3071 + 1) / 2, width: 3071 + 1024 + 1 });
    expect([...windowLinear(values, w, NORMAL, new Uint8Array(3))]).toEqual([0, 63, 255]);
  });
});

describe('presentationRange (PS3.3 C.11.6.1, C.7.6.3.1.2)', () => {
  it('inverts MONOCHROME1 and Presentation LUT Shape INVERSE, not MONOCHROME2', () => {
    const none = new ElementList([]);
    expect(presentationRange('MONOCHROME2', none)).toEqual(NORMAL);
    expect(presentationRange('MONOCHROME1', none)).toEqual(INVERSE);
    expect(presentationRange('MONOCHROME2', new ElementList([el('20500020', 'CS', ['INVERSE'])]))).toEqual(INVERSE);
    // DX images pair MONOCHROME1 with INVERSE: one inversion, not two.
    expect(presentationRange('MONOCHROME1', new ElementList([el('20500020', 'CS', ['INVERSE'])]))).toEqual(INVERSE);
  });
});

describe('readWindow (PS3.3 C.11.2.1.2, C.7.6.16.2.10)', () => {
  it('takes the first of several windows', () => {
    const ds = new ElementList([el('00281050', 'DS', [300, 40]), el('00281051', 'DS', [2000, 400])]);
    expect(readWindow(ds, 0)).toEqual({ window: { center: 300, width: 2000 }, fn: 'LINEAR' });
  });

  it('prefers the frame VOI LUT functional group, and reads the VOI LUT Function', () => {
    const fg = (c: number, w: number) => new ElementList([seq('00289132', new ElementList([el('00281050', 'DS', [c]), el('00281051', 'DS', [w]), el('00281056', 'CS', ['SIGMOID'])]))]);
    const ds = new ElementList([el('00281050', 'DS', [1]), el('00281051', 'DS', [2]), seq('52009230', fg(10, 20), fg(30, 40))]);
    expect(readWindow(ds, 1)).toEqual({ window: { center: 30, width: 40 }, fn: 'SIGMOID' });
  });

  it('skips a window whose width is not > 0', () => {
    expect(readWindow(new ElementList([el('00281050', 'DS', [1]), el('00281051', 'DS', [0])]), 0)).toBeUndefined();
  });
});

describe('applyVoiLut (PS3.3 C.11.2.1.1)', () => {
  it('clamps inputs to the table and scales n-bit entries to 8 bits', () => {
    const lut = { firstMapped: 100, data: Uint16Array.from([0, 2048, 4095]), bits: 12 };
    const out = applyVoiLut(Float64Array.from([0, 100, 101, 102, 500]), lut, NORMAL, new Uint8Array(5));
    expect([...out]).toEqual([0, 0, 128, 255, 255]);
    expect([...applyVoiLut(Float64Array.from([101]), lut, INVERSE, new Uint8Array(1))]).toEqual([127]);
  });
});
