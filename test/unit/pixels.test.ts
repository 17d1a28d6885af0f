import { describe, expect, it } from 'vitest';
import { BufferByteSource, type ByteSource } from '../../src/dicom/byte-source.js';
import type { ImageInfo } from '../../src/dicom/image-info.js';
import { expandYbr422, interleavePlanes, readNativeFrame, toStoredValues, unpackUnits } from '../../src/dicom/pixels.js';
import type { PixelDataLocation } from '../../src/dicom/scan.js';
import { InconsistentImageError } from '../../src/errors.js';
import { imageInfo } from '../helpers/fixtures.js';

const info = (o: Partial<ImageInfo>): ImageInfo => imageInfo(o);

const at = (valueOffset: number, length: number, vr = 'OW'): PixelDataLocation => ({ vr, valueOffset, length });

/** Records every read, to prove a frame is read without touching the others. */
class SpySource implements ByteSource {
  readonly reads: [number, number][] = [];
  private readonly inner: BufferByteSource;
  readonly size: number;
  constructor(bytes: Uint8Array) {
    this.inner = new BufferByteSource(bytes);
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    this.reads.push([offset, length]);
    return this.inner.read(offset, length);
  }
}

describe('toStoredValues (PS3.5 §8.1.1: BitsStored, HighBit, PixelRepresentation)', () => {
  it('masks the bits above HighBit (overlay bits in the high nibble are dropped)', () => {
    const units = new Uint16Array([0xf000 | 0x0fff, 0x1001]);
    expect([...toStoredValues(units, { bitsStored: 12, highBit: 11, pixelRepresentation: 0 })]).toEqual([0x0fff, 0x001]);
  });

  it('sign-extends from BitsStored when PixelRepresentation is 1', () => {
    // 12-bit two's complement: 0x800 = −2048, 0xfff = −1, 0x7ff = 2047.
    const units = new Uint16Array([0x0800, 0x0fff, 0x07ff, 0xf001]);
    expect([...toStoredValues(units, { bitsStored: 12, highBit: 11, pixelRepresentation: 1 })]).toEqual([-2048, -1, 2047, 1]);
    // 9-bit signed (weasis signed-raw-9bit): 0x1ff = −1, 0x100 = −256.
    expect([...toStoredValues(new Uint16Array([0x1ff, 0x100, 0xff]), { bitsStored: 9, highBit: 8, pixelRepresentation: 1 })]).toEqual([-1, -256, 255]);
  });

  it('shifts down when HighBit < BitsAllocated − 1 (stored bits not at the bottom)', () => {
    // BitsStored 12 at bits 15..4 (HighBit 15): 0xabc0 → 0xabc; signed → 0xabc − 4096.
    expect([...toStoredValues(new Uint16Array([0xabc0]), { bitsStored: 12, highBit: 15, pixelRepresentation: 0 })]).toEqual([0xabc]);
    expect([...toStoredValues(new Uint16Array([0xabc0]), { bitsStored: 12, highBit: 15, pixelRepresentation: 1 })]).toEqual([0xabc - 4096]);
  });

  it('keeps full 16-bit values, signed and unsigned', () => {
    expect([...toStoredValues(new Uint16Array([0xffff, 0x8000]), { bitsStored: 16, highBit: 15, pixelRepresentation: 0 })]).toEqual([65535, 32768]);
    expect([...toStoredValues(new Uint16Array([0xffff, 0x8000]), { bitsStored: 16, highBit: 15, pixelRepresentation: 1 })]).toEqual([-1, -32768]);
  });

  it('handles 32-bit samples', () => {
    const units = new Uint32Array([0xffffffff, 0x80000000]);
    expect([...toStoredValues(units, { bitsStored: 32, highBit: 31, pixelRepresentation: 0 })]).toEqual([4294967295, 2147483648]);
    expect([...toStoredValues(units, { bitsStored: 32, highBit: 31, pixelRepresentation: 1 })]).toEqual([-1, -2147483648]);
  });
});

describe('unpackUnits (PS3.5 §8.1.1 and Annex D: bit-packed data, least significant bit first)', () => {
  it('unpacks 1-bit pixels LSB first, from any bit offset', () => {
    // 0b10110001 → pixels 1,0,0,0,1,1,0,1
    expect([...unpackUnits(new Uint8Array([0b10110001]), 1, 0, 8)]).toEqual([1, 0, 0, 0, 1, 1, 0, 1]);
    expect([...unpackUnits(new Uint8Array([0b10110001, 0b1]), 1, 5, 4)]).toEqual([1, 0, 1, 1]);
  });

  it('unpacks ACR-NEMA 12-bit packed pixels (two pixels in three bytes)', () => {
    // pixels 0xabc, 0x123 → bit stream LSB first: bytes 0xbc, 0x3a, 0x12
    expect([...unpackUnits(new Uint8Array([0xbc, 0x3a, 0x12]), 12, 0, 2)]).toEqual([0xabc, 0x123]);
  });

  it('reads 16-bit little-endian words at odd offsets', () => {
    const buf = new Uint8Array([0, 0x34, 0x12, 0xff, 0xff]);
    expect([...unpackUnits(buf.subarray(1), 16, 0, 2)]).toEqual([0x1234, 0xffff]);
  });
});

describe('readNativeFrame (PS3.5 §8.1.1, §8.2)', () => {
  it('reads only the requested frame', () => {
    const bytes = new Uint8Array(8 + 3 * 8);
    for (let f = 0; f < 3; f++) for (let p = 0; p < 4; p++) bytes[8 + f * 8 + p * 2] = 10 * (f + 1) + p;
    const src = new SpySource(bytes);
    const values = readNativeFrame(info({ numberOfFrames: 3 }), at(8, 24), true, src, 1);
    expect([...values]).toEqual([20, 21, 22, 23]);
    expect(src.reads).toEqual([[16, 8]]);
  });

  it('swaps 16-bit OW words in explicit VR big endian', () => {
    const src = new BufferByteSource(new Uint8Array([0x12, 0x34, 0xff, 0xfe, 0x00, 0x01, 0x80, 0x00]));
    expect([...readNativeFrame(info({ pixelRepresentation: 1 }), at(0, 8), false, src, 0)]).toEqual([0x1234, -2, 1, -32768]);
  });

  it('does not swap 8-bit OB pixel data in big endian, but does swap 8-bit OW byte pairs', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const i8 = info({ bitsAllocated: 8, bitsStored: 8, highBit: 7 });
    expect([...readNativeFrame(i8, at(0, 4, 'OB'), false, new BufferByteSource(bytes), 0)]).toEqual([1, 2, 3, 4]);
    expect([...readNativeFrame(i8, at(0, 4, 'OW'), false, new BufferByteSource(bytes), 0)]).toEqual([2, 1, 4, 3]);
  });

  it('interleaves planar configuration 1 (PS3.3 C.7.6.3.1.3)', () => {
    const rgb = info({ columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometricInterpretation: 'RGB', planarConfiguration: 1 });
    const bytes = new Uint8Array([10, 11, 20, 21, 30, 31]); // RR GG BB
    expect([...readNativeFrame(rgb, at(0, 6), true, new BufferByteSource(bytes), 0)]).toEqual([10, 20, 30, 11, 21, 31]);
    expect([...interleavePlanes(new Int32Array([1, 2, 3, 4, 5, 6]), 3)]).toEqual([1, 3, 5, 2, 4, 6]);
  });

  it('unpacks a 1-bit frame that starts inside a byte (frames are contiguous bit streams)', () => {
    // 3×1 pixels per frame; frame 2 (index 1) is bits 3..5 of byte 0.
    const seg = info({ columns: 3, bitsAllocated: 1, bitsStored: 1, highBit: 0, numberOfFrames: 2 });
    const bytes = new Uint8Array([0b00101000]);
    expect([...readNativeFrame(seg, at(0, 1), true, new BufferByteSource(bytes), 1)]).toEqual([1, 0, 1]);
    expect([...readNativeFrame(seg, at(0, 1), true, new BufferByteSource(bytes), 0)]).toEqual([0, 0, 0]);
  });

  it('expands YBR_FULL_422 pairs to one Y Cb Cr per pixel (PS3.3 C.7.6.3.1.2)', () => {
    const ybr = info({ columns: 2, samplesPerPixel: 3, bitsAllocated: 8, bitsStored: 8, highBit: 7, photometricInterpretation: 'YBR_FULL_422' });
    const bytes = new Uint8Array([100, 200, 50, 60]); // Y1 Y2 Cb Cr
    expect([...readNativeFrame(ybr, at(0, 4), true, new BufferByteSource(bytes), 0)]).toEqual([100, 50, 60, 200, 50, 60]);
    expect([...expandYbr422(new Int32Array([1, 2, 3, 4]))]).toEqual([1, 3, 4, 2, 3, 4]);
  });

  it('throws InconsistentImageError when the source ends inside the frame', () => {
    const src = new BufferByteSource(new Uint8Array(6));
    expect(() => readNativeFrame(info({}), at(0, 8), true, src, 0)).toThrow(InconsistentImageError);
    expect(() => readNativeFrame(info({}), at(0, 8), true, src, 0)).toThrow(/pixel data ends after 6 bytes, the frame needs bytes 0\.\.7/);
  });
});
