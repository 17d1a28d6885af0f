/**
 * Colour stage (PS3.3 C.7.6.3.1.2, C.7.6.3.1.5): interleaved stored samples of a colour image → 8-bit
 * RGB. Colour images get no modality or VOI transformation. Arithmetic follows dcmtk (truncation,
 * right shift to reduce bit depth) so lossless files match its renders.
 */
import type { DicomDataset } from './dataset.js';
import { elementNumbers } from './image-info.js';
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
 * Reads the Palette Color Lookup Table Descriptors (0028,1101-1103) with their Data (0028,1201-1203)
 * or, when that is absent, their Segmented Data (0028,1221-1223, PS3.3 C.7.9.2). Undefined when any
 * of them is missing or malformed.
 */
export function readPalette(dataset: DicomDataset, littleEndian: boolean, signedInput: boolean): Palette | undefined {
  const channel = (descriptor: string, data: string, segmented: string): Lut | undefined =>
    readLut(dataset, descriptor, data, littleEndian, signedInput) ?? readSegmentedLut(dataset, descriptor, segmented, littleEndian, signedInput);
  const red = channel('00281101', '00281201', '00281221');
  const green = channel('00281102', '00281202', '00281222');
  const blue = channel('00281103', '00281203', '00281223');
  return red && green && blue ? { red, green, blue } : undefined;
}

/**
 * A segmented palette LUT (PS3.3 C.7.9.2) expanded to `count` entries: the descriptor as for a
 * plain LUT, the data as 16-bit words (8-bit entries: bytes) in the data set's byte order.
 */
export function readSegmentedLut(dataset: DicomDataset, descriptorTag: string, dataTag: string, littleEndian: boolean, signedInput: boolean): Lut | undefined {
  const descriptor = elementNumbers(dataset.get(descriptorTag));
  const element = dataset.get(dataTag);
  if (descriptor.length < 3 || !element) return undefined;
  const [count0, first0, bits] = descriptor as [number, number, number];
  if (![count0, first0, bits].every(Number.isInteger) || bits < 1 || bits > 16) return undefined;
  const count = count0 === 0 ? 65536 : count0;
  let words: number[];
  if (element.values.length > 0) words = element.values.map(Number);
  else if (element.bytes) {
    const b = element.bytes;
    words = [];
    if (bits <= 8) for (let i = 0; i < b.length; i++) words.push(b[littleEndian ? i : i ^ 1]!);
    else for (let i = 0; i + 1 < b.length; i += 2) words.push(littleEndian ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!);
  } else return undefined;
  const expanded = expandSegmentedLut(words, count);
  if (!expanded) return undefined;
  const data = new Uint16Array(count);
  data.set(expanded.subarray(0, count));
  // A table shorter than its descriptor keeps repeating its last entry.
  if (expanded.length > 0 && expanded.length < count) data.fill(expanded[expanded.length - 1]!, expanded.length);
  return { firstMapped: signedInput && first0 > 0x7fff ? first0 - 0x10000 : first0, data, bits };
}

/**
 * Expands segmented LUT data (PS3.3 C.7.9.2): discrete segments (type 0: n, then n entries),
 * linear segments (type 1: n, y1 — n entries from the previous entry to y1, rounded) and indirect
 * segments (type 2: n, offset low word, offset high word — the n segments starting at that word
 * offset of the data, as GDCM and pydicom read it). Stops at `limit` entries; undefined when
 * malformed (unknown type, a linear or indirect segment first, indirect segments nested too deep or
 * too many segments).
 */
export function expandSegmentedLut(words: readonly number[], limit: number): Uint16Array | undefined {
  const out: number[] = [];
  // Bounds the work crafted indirect segments (pointing at each other) could cause.
  let budget = 1 << 20;
  const expand = (start: number, maxSegments: number, depth: number): boolean => {
    let at = start;
    for (let n = 0; n < maxSegments && at + 1 < words.length && out.length < limit; n++) {
      if (--budget < 0) return false;
      const type = words[at]!;
      const length = words[at + 1]!;
      if (type === 0) {
        if (at + 2 + length > words.length) return false;
        for (let i = 0; i < length; i++) out.push(words[at + 2 + i]!);
        at += 2 + length;
      } else if (type === 1) {
        if (out.length === 0 || at + 2 >= words.length) return false;
        const y0 = out[out.length - 1]!;
        const y1 = words[at + 2]!;
        for (let i = 1; i <= length; i++) out.push(Math.round(y0 + ((y1 - y0) * i) / length));
        at += 3;
      } else if (type === 2) {
        if (out.length === 0 || depth > 8 || at + 3 >= words.length) return false;
        const offset = words[at + 2]! + words[at + 3]! * 0x10000;
        if (!expand(offset, length, depth + 1)) return false;
        at += 4;
      } else return false;
    }
    return true;
  };
  if (!expand(0, Number.POSITIVE_INFINITY, 0)) return undefined;
  return Uint16Array.from(out.slice(0, limit));
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
