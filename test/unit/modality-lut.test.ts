import { describe, expect, it } from 'vitest';
import { type DicomElement, ElementList } from '../../src/dicom/dataset.js';
import { applyLut, applyModalityTransform, readLut, readModalityTransform, rescale } from '../../src/dicom/modality-lut.js';

const el = (tag: string, vr: string, values: unknown[], extra: Partial<DicomElement> = {}): DicomElement => ({ tag, vr, values, length: 0, ...extra });
const seq = (tag: string, ...items: ElementList[]): DicomElement => ({ tag, vr: 'SQ', values: [], items, length: 0 });

describe('rescale (PS3.3 C.11.1.1.2: output = m × SV + b)', () => {
  it('applies slope and intercept', () => {
    expect([...rescale(new Int32Array([0, 1024, -5]), 1, -1024)]).toEqual([-1024, 0, -1029]);
    expect([...rescale(new Int32Array([2, 3]), 0.5, 10)]).toEqual([11, 11.5]);
  });
});

describe('readModalityTransform (PS3.3 C.11.1)', () => {
  it('reads Rescale Slope/Intercept from the top level', () => {
    const ds = new ElementList([el('00281052', 'DS', [-1024]), el('00281053', 'DS', [2])]);
    expect(readModalityTransform(ds, 0, true, false)).toEqual({ kind: 'rescale', slope: 2, intercept: -1024 });
  });

  it('needs both slope and intercept and a non-zero slope (identity otherwise)', () => {
    expect(readModalityTransform(new ElementList([el('00281053', 'DS', [2])]), 0, true, false)).toEqual({ kind: 'rescale', slope: 1, intercept: 0 });
    const zero = new ElementList([el('00281052', 'DS', [5]), el('00281053', 'DS', [0])]);
    expect(readModalityTransform(zero, 0, true, false)).toEqual({ kind: 'rescale', slope: 1, intercept: 0 });
  });

  it('prefers the per-frame Pixel Value Transformation functional group (PS3.3 C.7.6.16.2.9)', () => {
    const pvt = (slope: number, intercept: number) =>
      new ElementList([seq('00289145', new ElementList([el('00281052', 'DS', [intercept]), el('00281053', 'DS', [slope])]))]);
    const ds = new ElementList([
      el('00281052', 'DS', [0]),
      el('00281053', 'DS', [1]),
      seq('52009229', pvt(1, -1000)),
      seq('52009230', pvt(2, 7), new ElementList([])),
    ]);
    expect(readModalityTransform(ds, 0, true, false)).toEqual({ kind: 'rescale', slope: 2, intercept: 7 });
    // Frame 2 has no per-frame group: the shared one applies.
    expect(readModalityTransform(ds, 1, true, false)).toEqual({ kind: 'rescale', slope: 1, intercept: -1000 });
  });

  it('uses a Modality LUT Sequence in preference to rescale (PS3.3 C.11.1.1.1)', () => {
    const item = new ElementList([el('00283002', 'US', [3, 10, 16]), el('00283006', 'US', [100, 200, 300])]);
    const ds = new ElementList([el('00281052', 'DS', [0]), el('00281053', 'DS', [5]), seq('00283000', item)]);
    const t = readModalityTransform(ds, 0, true, false);
    expect(t.kind).toBe('lut');
    // below the first mapped value → first entry, above the last → last entry
    expect([...applyModalityTransform(new Int32Array([0, 10, 11, 12, 99]), t)]).toEqual([100, 100, 200, 300, 300]);
  });
});

describe('readLut (PS3.3 C.11.1.1.1 LUT Descriptor)', () => {
  it('treats 0 entries as 65536 and reads OW data in the data set byte order', () => {
    const bytes = new Uint8Array(65536 * 2);
    bytes[2] = 0x34;
    bytes[3] = 0x12; // entry 1 = 0x1234 (LE)
    const item = new ElementList([el('00283002', 'US', [0, 0, 16]), el('00283006', 'OW', [], { bytes })]);
    const lut = readLut(item, '00283002', '00283006', true, false)!;
    expect(lut.data.length).toBe(65536);
    expect(lut.data[1]).toBe(0x1234);
    expect(readLut(item, '00283002', '00283006', false, false)!.data[1]).toBe(0x3412);
  });

  it('reads a signed first mapped value when the input is signed', () => {
    const item = new ElementList([el('00283002', 'US', [2, 0xfc00, 16]), el('00283006', 'US', [1, 2])]);
    expect(readLut(item, '00283002', '00283006', true, true)!.firstMapped).toBe(-1024);
    expect(readLut(item, '00283002', '00283006', true, false)!.firstMapped).toBe(0xfc00);
  });

  it('unpacks 8-bit entries packed two per word', () => {
    const item = new ElementList([el('00281101', 'US', [4, 0, 8]), el('00281201', 'OW', [], { bytes: new Uint8Array([1, 2, 3, 4]) })]);
    expect([...readLut(item, '00281101', '00281201', true, false)!.data]).toEqual([1, 2, 3, 4]);
  });

  it('applyLut clamps out-of-range inputs', () => {
    const lut = { firstMapped: -1, data: new Uint16Array([5, 6, 7]), bits: 16 };
    expect([...applyLut(new Int32Array([-5, -1, 0, 1, 50]), lut)]).toEqual([5, 5, 6, 7, 7]);
  });
});
