/**
 * Colour stage (PS3.3 C.7.6.3.1.2, C.7.6.3.1.5): interleaved stored samples of a colour image → 8-bit
 * RGB. Colour images get no modality or VOI transformation. Arithmetic follows dcmtk (truncation,
 * right shift to reduce bit depth) so lossless files match its renders.
 */
import type { DicomDataset } from './dataset.js';
import { type Lut, readLut } from './modality-lut.js';
import type { StoredValues } from './pixels.js';

/** RGB samples of `bitsStored` bits → 8-bit RGB; deeper samples keep their 8 most significant bits (PS3.3 C.7.6.3.1.2). */
export function rgbTo8Bit(values: StoredValues, bitsStored: number, signed: boolean): Uint8Array {
  const out = new Uint8Array(values.length);
  const shift = Math.max(0, bitsStored - 8);
  // Signed colour samples are not meaningful for display; move them to the unsigned range first.
  const bias = signed ? 2 ** (bitsStored - 1) : 0;
  for (let i = 0; i < values.length; i++) out[i] = (values[i]! + bias) >>> shift;
  return out;
}

/**
 * YBR_FULL / YBR_FULL_422 (expanded to one Cb Cr per pixel) → RGB (PS3.3 C.7.6.3.1.2; ITU-R BT.601
 * full range with dcmtk's constants): R = Y + 1.402 Cr − 0.701·255, G = Y − 0.3441 Cb − 0.7141 Cr + 0.5291·255,
 * B = Y + 1.772 Cb − 0.8859·255, clamped to 0..255. With `integerTerms` each Cb/Cr term is truncated
 * to an integer first (dcmtk's table method for 8-bit YBR_FULL); otherwise the sum is truncated (its
 * method for YBR_FULL_422 and deeper samples). The two differ by at most one level.
 */
export function ybrFullToRgb(values: StoredValues, bitsStored: number, integerTerms = bitsStored === 8): Uint8Array {
  const out = new Uint8Array(values.length);
  const shift = Math.max(0, bitsStored - 8);
  const max = 255;
  if (integerTerms) {
    const rcr = new Int16Array(256);
    const gcb = new Int16Array(256);
    const gcr = new Int16Array(256);
    const bcb = new Int16Array(256);
    for (let l = 0; l < 256; l++) {
      rcr[l] = Math.trunc(1.402 * l - 0.701 * max);
      gcb[l] = Math.trunc(0.3441 * l);
      gcr[l] = Math.trunc(0.7141 * l - 0.5291 * max);
      bcb[l] = Math.trunc(1.772 * l - 0.8859 * max);
    }
    for (let i = 0; i < values.length; i += 3) {
      const y = values[i]! >>> shift;
      const cb = (values[i + 1]! >>> shift) & 0xff;
      const cr = (values[i + 2]! >>> shift) & 0xff;
      const r = y + rcr[cr]!;
      const g = y - gcb[cb]! - gcr[cr]!;
      const b = y + bcb[cb]!;
      out[i] = r < 0 ? 0 : r > max ? max : r;
      out[i + 1] = g < 0 ? 0 : g > max ? max : g;
      out[i + 2] = b < 0 ? 0 : b > max ? max : b;
    }
    return out;
  }
  for (let i = 0; i < values.length; i += 3) {
    const y = values[i]! >>> shift;
    const cb = values[i + 1]! >>> shift;
    const cr = values[i + 2]! >>> shift;
    const r = y + 1.402 * cr - 0.701 * max;
    const g = y - 0.3441 * cb - 0.7141 * cr + 0.5291 * max;
    const b = y + 1.772 * cb - 0.8859 * max;
    out[i] = r < 0 ? 0 : r > max ? max : r;
    out[i + 1] = g < 0 ? 0 : g > max ? max : g;
    out[i + 2] = b < 0 ? 0 : b > max ? max : b;
  }
  return out;
}

/** The red, green and blue Palette Color LUTs (PS3.3 C.7.6.3.1.5, C.7.9). */
export interface Palette {
  readonly red: Lut;
  readonly green: Lut;
  readonly blue: Lut;
}

/**
 * Reads the Palette Color Lookup Table Descriptors (0028,1101-1103) and Data (0028,1201-1203).
 * Undefined when any of them is missing or malformed (segmented palettes are not supported).
 */
export function readPalette(dataset: DicomDataset, littleEndian: boolean, signedInput: boolean): Palette | undefined {
  const red = readLut(dataset, '00281101', '00281201', littleEndian, signedInput);
  const green = readLut(dataset, '00281102', '00281202', littleEndian, signedInput);
  const blue = readLut(dataset, '00281103', '00281203', littleEndian, signedInput);
  return red && green && blue ? { red, green, blue } : undefined;
}

/** Bits actually used by a LUT's entries: 16-bit tables whose entries all fit in 8 bits are 8-bit (as dcmtk treats them). */
function effectiveBits(lut: Lut): number {
  if (lut.bits <= 8) return 8;
  let max = 0;
  for (let i = 0; i < lut.data.length; i++) if (lut.data[i]! > max) max = lut.data[i]!;
  return max <= 0xff ? 8 : lut.bits;
}

/** PALETTE COLOR → RGB: each stored value indexes the three LUTs, clamped to their ends (PS3.3 C.7.6.3.1.5). */
export function paletteToRgb(values: StoredValues, palette: Palette): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  const luts = [palette.red, palette.green, palette.blue];
  for (let c = 0; c < 3; c++) {
    const lut = luts[c]!;
    const shift = effectiveBits(lut) - 8;
    const last = lut.data.length - 1;
    const data = lut.data;
    const first = lut.firstMapped;
    for (let i = 0, o = c; i < values.length; i++, o += 3) {
      const k = values[i]! - first;
      out[o] = data[k <= 0 ? 0 : k >= last ? last : k]! >> shift;
    }
  }
  return out;
}
