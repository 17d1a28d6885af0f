import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { frameFragments, readEncapsulatedFrame } from '../../src/dicom/decoders/frame-fragments.js';
import type { PixelDataLocation } from '../../src/dicom/scan.js';
import { InvalidPixelDataError } from '../../src/errors.js';

/**
 * Lays fragments out as encapsulated pixel data does (PS3.5 A.4): an 8-byte item header before each
 * value, the Basic Offset Table counting from the first fragment's item tag.
 */
function encapsulated(fragments: number[][], offsetTable: number[] = []) {
  const parts: number[] = [];
  const located: { offset: number; length: number }[] = [];
  const start = 100; // the first fragment's item tag
  for (const f of fragments) {
    parts.push(0xfe, 0xff, 0x00, 0xe0, f.length & 0xff, f.length >> 8, 0, 0);
    located.push({ offset: start + parts.length, length: f.length });
    parts.push(...f);
  }
  const bytes = new Uint8Array(start + parts.length);
  bytes.set(parts, start);
  const location: PixelDataLocation = { vr: 'OB', valueOffset: start - 8 - 4 * offsetTable.length, length: null, offsetTable, fragments: located };
  return { location, source: new BufferByteSource(bytes) };
}

const eoi = (...body: number[]) => [0xff, 0xd8, ...body, 0xff, 0xd9];
const frame = (...args: Parameters<typeof frameFragments>) => Array.from(readEncapsulatedFrame(...args));

describe('frameFragments (PS3.5 A.4: which fragments hold frame N)', () => {
  it('uses the Basic Offset Table when it has one entry per frame', () => {
    // frame 1: two fragments of 4 bytes (12 bytes each with their item headers); frame 2 at 24
    const { location, source } = encapsulated([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]], [0, 24]);
    expect(frame(location, source, 2, 0, false)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(frame(location, source, 2, 1, false)).toEqual([9, 10]);
  });

  it('ignores an offset table that does not point at fragment starts, and falls back to the EOI markers', () => {
    const { location, source } = encapsulated([eoi(1), [2, 2], eoi(3)], [0, 14]); // 14 is inside a fragment
    expect(frame(location, source, 2, 0, true)).toEqual(eoi(1));
    expect(frame(location, source, 2, 1, true)).toEqual([2, 2, ...eoi(3)]);
  });

  it('takes every fragment for a single frame', () => {
    const { location, source } = encapsulated([[1, 2], [3, 4], [5, 6]]);
    expect(frame(location, source, 1, 0, false)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('takes one fragment per frame when there are as many fragments as frames', () => {
    const { location, source } = encapsulated([[1, 2], [3, 4], [5, 6]]);
    expect(frame(location, source, 3, 2, false)).toEqual([5, 6]);
  });

  it('without an offset table, ends frames at fragments ending with FFD9 (before 00 or FF padding)', () => {
    const { location, source } = encapsulated([[0xff, 0xd8, 1], [2, 0xff, 0xd9, 0], [0xff, 0xd8, 3, 0xff, 0xd9, 0xff], eoi(4)]);
    expect(frame(location, source, 3, 0, true)).toEqual([0xff, 0xd8, 1, 2, 0xff, 0xd9, 0]);
    expect(frame(location, source, 3, 1, true)).toEqual([0xff, 0xd8, 3, 0xff, 0xd9, 0xff]);
    expect(frame(location, source, 3, 2, true)).toEqual(eoi(4));
  });

  it('reads only the requested frame’s fragments', () => {
    const { location, source } = encapsulated([[1, 2], [3, 4]]);
    const reads: number[] = [];
    const spy = { size: source.size, read: (offset: number, length: number) => (reads.push(offset), source.read(offset, length)) };
    frame(location, spy, 2, 1, false);
    expect(reads).toEqual([location.fragments![1]!.offset]);
  });

  it('InvalidPixelDataError when the fragments cannot be assigned to frames', () => {
    const rle = encapsulated([[1, 2], [3, 4], [5, 6]]);
    expect(() => frameFragments(rle.location, rle.source, 2, 0, false)).toThrow(InvalidPixelDataError);
    expect(() => frameFragments(rle.location, rle.source, 2, 0, false)).toThrow(/no Basic Offset Table and 3 fragments for 2 frames/);
    const jpeg = encapsulated([eoi(1), eoi(2), eoi(3)]);
    expect(() => frameFragments(jpeg.location, jpeg.source, 4, 3, true)).toThrow(/frame 4 not found/);
    const none = encapsulated([]);
    expect(() => frameFragments(none.location, none.source, 1, 0, true)).toThrow(/no fragments/);
  });
});
