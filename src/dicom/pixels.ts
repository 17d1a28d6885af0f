/**
 * Native (uncompressed) pixel data → stored pixel values of one frame (PS3.5 §8.1.1, §8.2; PS3.3
 * C.7.6.3.1). Reads only the bytes of the requested frame.
 */
import { InconsistentImageError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { type ImageInfo, nativeFrameBits } from './image-info.js';
import type { PixelDataLocation } from './scan.js';

/**
 * Stored pixel values of one frame, samples interleaved per pixel (R G B R G B… or Y Cb Cr…), after
 * the HighBit/BitsStored mask and sign extension. Uint32Array only for unsigned 32-bit samples.
 */
export type StoredValues = Int32Array | Uint32Array;

/** Reads frame `frameIndex` (0-based) of native pixel data and returns its stored values (PS3.5 §8.1.1). */
export function readNativeFrame(
  info: ImageInfo,
  location: PixelDataLocation,
  littleEndian: boolean,
  pixels: ByteSource,
  frameIndex: number,
): StoredValues {
  const frameBits = nativeFrameBits(info);
  const bitOffset = frameIndex * frameBits;
  const start = Math.floor(bitOffset / 8);
  const end = Math.ceil((bitOffset + frameBits) / 8);
  const bytes = readFrameBytes(location, littleEndian, pixels, info.bitsAllocated, start, end);
  const units = unpackUnits(bytes, info.bitsAllocated, bitOffset % 8, frameBits / info.bitsAllocated);
  const values = toStoredValues(units, info);
  if (info.photometricInterpretation === 'YBR_FULL_422') return expandYbr422(values);
  if (info.samplesPerPixel > 1 && info.planarConfiguration === 1) return interleavePlanes(values, info.samplesPerPixel);
  return values;
}

/**
 * The frame's bytes in little-endian order. Explicit VR Big Endian stores OW pixel data as 16-bit
 * words (32-bit for BitsAllocated 32) in big-endian order; OB pixel data is a byte stream (PS3.5 §8.2).
 */
function readFrameBytes(location: PixelDataLocation, littleEndian: boolean, pixels: ByteSource, bitsAllocated: number, start: number, end: number): Uint8Array {
  const word = littleEndian || location.vr === 'OB' ? 1 : bitsAllocated === 32 ? 4 : 2;
  const alignedStart = start - (start % word);
  const alignedEnd = Math.min(end + ((word - (end % word)) % word), location.length ?? end);
  const want = Math.max(end, alignedEnd) - alignedStart;
  const raw = pixels.read(location.valueOffset + alignedStart, want);
  if (raw.length < end - alignedStart) {
    throw new InconsistentImageError(
      `pixel data ends after ${alignedStart + raw.length} bytes, the frame needs bytes ${start}..${end - 1}`,
    );
  }
  if (word === 1) return raw.subarray(start - alignedStart, end - alignedStart);
  const swapped = new Uint8Array(raw.length);
  const whole = raw.length - (raw.length % word);
  if (word === 2) {
    for (let i = 0; i < whole; i += 2) {
      swapped[i] = raw[i + 1]!;
      swapped[i + 1] = raw[i]!;
    }
  } else {
    for (let i = 0; i < whole; i += 4) {
      swapped[i] = raw[i + 3]!;
      swapped[i + 1] = raw[i + 2]!;
      swapped[i + 2] = raw[i + 1]!;
      swapped[i + 3] = raw[i]!;
    }
  }
  return swapped.subarray(start - alignedStart, end - alignedStart);
}

/**
 * Splits little-endian bytes into `count` BitsAllocated-wide units (may share memory with `bytes`). Widths other than 8/16/32 (1-bit
 * segmentations, ACR-NEMA 12-bit) are a bit stream, least significant bit first (PS3.5 §8.1.1, D.2).
 */
export function unpackUnits(bytes: Uint8Array, bitsAllocated: number, firstBit: number, count: number): Uint8Array | Uint16Array | Uint32Array {
  if (bitsAllocated === 8) return bytes.subarray(0, count);
  if (bitsAllocated === 16) {
    if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    const out = new Uint16Array(count);
    for (let i = 0, j = 0; i < count; i++, j += 2) out[i] = bytes[j]! | (bytes[j + 1]! << 8);
    return out;
  }
  if (bitsAllocated === 32) {
    const out = new Uint32Array(count);
    for (let i = 0, j = 0; i < count; i++, j += 4) {
      out[i] = (bytes[j]! | (bytes[j + 1]! << 8) | (bytes[j + 2]! << 16) | (bytes[j + 3]! << 24)) >>> 0;
    }
    return out;
  }
  if (bitsAllocated === 1) {
    const out = new Uint8Array(count);
    for (let i = 0, bit = firstBit; i < count; i++, bit++) out[i] = (bytes[bit >> 3]! >> (bit & 7)) & 1;
    return out;
  }
  const out = new Uint16Array(count);
  const mask = (1 << bitsAllocated) - 1;
  for (let i = 0, bit = firstBit; i < count; i++, bit += bitsAllocated) {
    const b = bit >> 3;
    const window = bytes[b]! | ((bytes[b + 1] ?? 0) << 8) | ((bytes[b + 2] ?? 0) << 16);
    out[i] = (window >> (bit & 7)) & mask;
  }
  return out;
}

/**
 * Keeps bits HighBit−BitsStored+1 … HighBit of each unit and sign-extends them when
 * PixelRepresentation is 1 (PS3.5 §8.1.1; PS3.3 C.7.6.3.1.1).
 */
export function toStoredValues(units: Uint8Array | Uint16Array | Uint32Array, info: Pick<ImageInfo, 'bitsStored' | 'highBit' | 'pixelRepresentation'>): StoredValues {
  const { bitsStored, highBit, pixelRepresentation } = info;
  const shift = highBit + 1 - bitsStored;
  const n = units.length;
  if (bitsStored === 32) {
    // Whole 32-bit words: no mask, the representation alone decides the sign.
    return pixelRepresentation === 1 ? new Int32Array(units.buffer, units.byteOffset, n).slice() : Uint32Array.from(units);
  }
  const out = new Int32Array(n);
  const mask = bitsStored === 31 ? 0x7fffffff : (1 << bitsStored) - 1;
  if (pixelRepresentation === 1) {
    const up = 32 - bitsStored;
    for (let i = 0; i < n; i++) out[i] = (((units[i]! >>> shift) & mask) << up) >> up;
  } else if (shift === 0 && bitsStored === units.BYTES_PER_ELEMENT * 8) {
    out.set(units);
  } else {
    for (let i = 0; i < n; i++) out[i] = (units[i]! >>> shift) & mask;
  }
  return out;
}

/** Planar configuration 1 (R…R G…G B…B) → interleaved samples (PS3.3 C.7.6.3.1.3). */
export function interleavePlanes(values: StoredValues, samplesPerPixel: number): StoredValues {
  const out = values instanceof Uint32Array ? new Uint32Array(values.length) : new Int32Array(values.length);
  const pixels = values.length / samplesPerPixel;
  for (let s = 0; s < samplesPerPixel; s++) {
    const plane = s * pixels;
    for (let p = 0, o = s; p < pixels; p++, o += samplesPerPixel) out[o] = values[plane + p]!;
  }
  return out;
}

/** YBR_FULL_422 Y1 Y2 Cb Cr per pixel pair → Y Cb Cr per pixel (PS3.3 C.7.6.3.1.2). */
export function expandYbr422(values: StoredValues): StoredValues {
  const pairs = values.length >> 2;
  const out = new Int32Array(pairs * 6);
  for (let i = 0, j = 0; i < pairs; i++, j += 6) {
    const k = i * 4;
    const cb = values[k + 2]!;
    const cr = values[k + 3]!;
    out[j] = values[k]!;
    out[j + 1] = cb;
    out[j + 2] = cr;
    out[j + 3] = values[k + 1]!;
    out[j + 4] = cb;
    out[j + 5] = cr;
  }
  return out;
}
