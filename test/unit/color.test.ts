import { describe, expect, it } from 'vitest';
import { expandSegmentedLut, paletteToRgb, readPalette } from '../../src/dicom/color.js';
import { type DicomElement, ElementList } from '../../src/dicom/dataset.js';

const el = (tag: string, vr: string, values: unknown[], extra: Partial<DicomElement> = {}): DicomElement => ({ tag, vr, values, length: 0, ...extra });
const ow = (tag: string, words: number[]) => el(tag, 'OW', [], { bytes: new Uint8Array(Uint16Array.from(words).buffer) });

describe('segmented palette colour LUTs (PS3.3 C.7.9.2)', () => {
  it('discrete segments copy their entries (C.7.9.2.1)', () => {
    expect(Array.from(expandSegmentedLut([0, 3, 10, 20, 30, 0, 1, 40], 100)!)).toEqual([10, 20, 30, 40]);
  });

  it('linear segments run from the previous entry to y1 in n steps, rounded (C.7.9.2.2)', () => {
    expect(Array.from(expandSegmentedLut([0, 1, 0, 1, 4, 10], 100)!)).toEqual([0, 3, 5, 8, 10]);
    expect(Array.from(expandSegmentedLut([0, 1, 100, 1, 2, 100], 100)!)).toEqual([100, 100, 100]);
  });

  it('indirect segments replay n segments from a word offset of the data (C.7.9.2.3)', () => {
    // 0: discrete [5], 3: linear to 9 in 2 steps, 6: indirect — the 2 segments at offset 0 again
    expect(Array.from(expandSegmentedLut([0, 1, 5, 1, 2, 9, 2, 2, 0, 0], 100)!)).toEqual([5, 7, 9, 5, 7, 9]);
  });

  it('stops at the descriptor’s entry count; undefined for malformed data', () => {
    expect(Array.from(expandSegmentedLut([0, 4, 1, 2, 3, 4], 2)!)).toEqual([1, 2]);
    expect(expandSegmentedLut([1, 2, 9], 10)).toBeUndefined(); // linear first: no start value
    expect(expandSegmentedLut([7, 1, 0], 10)).toBeUndefined(); // unknown segment type
    expect(expandSegmentedLut([0, 1, 5, 2, 65535, 3, 0], 1 << 16)).toBeUndefined(); // indirect loop
  });

  it('readPalette expands Segmented Red/Green/Blue Palette Color LUT Data (0028,1221-1223) when there is no plain LUT data', () => {
    const descriptor = (tag: string) => el(tag, 'US', [256, 0, 16]);
    const dataset = new ElementList([
      descriptor('00281101'),
      descriptor('00281102'),
      descriptor('00281103'),
      ow('00281221', [0, 1, 0, 1, 255, 0xffff]), // 0 → 65535 over the table
      ow('00281222', [0, 1, 0xffff, 1, 255, 0]), // 65535 → 0
      ow('00281223', [0, 1, 0x8000, 1, 255, 0x8000]), // constant
    ]);
    const palette = readPalette(dataset, true, false)!;
    expect(palette).toBeDefined();
    expect(palette.red.data.length).toBe(256);
    expect([palette.red.data[0], palette.red.data[255], palette.green.data[0], palette.green.data[255], palette.blue.data[128]]).toEqual([0, 0xffff, 0xffff, 0, 0x8000]);
    // 16-bit entries → 8-bit output keeps the high byte (PS3.3 C.7.6.3.1.5)
    expect(Array.from(paletteToRgb(Int32Array.from([0, 255]), palette))).toEqual([0, 255, 128, 255, 0, 128]);
  });
});
