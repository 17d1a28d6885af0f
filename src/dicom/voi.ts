/**
 * VOI LUT stage (PS3.3 C.11.2) and the choice of output polarity (Presentation LUT, PS3.3 C.11.6):
 * modality values → display values, 8-bit (0..255) or 16-bit (0..65535) with the same formulas.
 * Output values run from `low` (for the lowest input) to `high`; an inverted presentation simply
 * swaps them (0..255 becomes 255..0), which is also how the references were computed by dcmtk.
 * Fractions are truncated, as dcmtk does.
 */
import type { DicomDataset } from './dataset.js';
import { elementNumbers, firstCode } from './image-info.js';
import { functionalGroupItem, type Lut, readLut } from './modality-lut.js';

export interface VoiWindow {
  readonly center: number;
  readonly width: number;
}

/** VOI LUT Function (0028,1056), PS3.3 C.11.2.1.3. */
export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** Output range of the VOI stage: the display value of the lowest and of the highest input. */
export interface OutputRange {
  readonly low: number;
  readonly high: number;
}

/** Display values: 8-bit (max 255) or 16-bit (max 65535) gray levels. */
export type DisplayValues = Uint8Array | Uint16Array;

const WINDOW_CENTER = '00281050';
const WINDOW_WIDTH = '00281051';
const VOI_LUT_FUNCTION = '00281056';
const VOI_LUT_SEQUENCE = '00283010';
const FRAME_VOI_LUT_SEQUENCE = '00289132';
const PRESENTATION_LUT_SHAPE = '20500020';

/**
 * Output polarity (PS3.3 C.11.6.1, C.7.6.3.1.2): an explicit Presentation LUT Shape decides
 * (INVERSE inverts, IDENTITY does not); without one, MONOCHROME1 is inverted so that its minimum
 * displays white. This is dcmtk's rule, which the reference renders follow. `maxOutput` is the
 * largest display value (255 for 8-bit output, 65535 for 16-bit).
 */
export function presentationRange(photometricInterpretation: string, dataset: DicomDataset, maxOutput = 255): OutputRange {
  const shape = firstCode(dataset, PRESENTATION_LUT_SHAPE);
  const inverse = shape === 'INVERSE' || (shape !== 'IDENTITY' && photometricInterpretation === 'MONOCHROME1');
  return inverse ? { low: maxOutput, high: 0 } : { low: 0, high: maxOutput };
}

/**
 * The frame's first VOI window (PS3.3 C.11.2.1.2): Frame VOI LUT functional group, else the top-level
 * Window Center/Width; windows whose width is not > 0 are skipped. Undefined when there is none.
 */
export function readWindow(dataset: DicomDataset, frameIndex: number): { window: VoiWindow; fn: VoiFunction } | undefined {
  for (const source of [functionalGroupItem(dataset, frameIndex, FRAME_VOI_LUT_SEQUENCE), dataset]) {
    if (!source) continue;
    const center = elementNumbers(source.get(WINDOW_CENTER))[0];
    const width = elementNumbers(source.get(WINDOW_WIDTH))[0];
    if (center !== undefined && width !== undefined && Number.isFinite(center) && Number.isFinite(width) && width > 0) {
      return { window: { center, width }, fn: readVoiFunction(source) ?? readVoiFunction(dataset) ?? 'LINEAR' };
    }
  }
  return undefined;
}

/** VOI LUT Function of the data set (PS3.3 C.11.2.1.3); unknown values are treated as absent. */
export function readVoiFunction(dataset: DicomDataset): VoiFunction | undefined {
  const fn = firstCode(dataset, VOI_LUT_FUNCTION);
  return fn === 'LINEAR' || fn === 'LINEAR_EXACT' || fn === 'SIGMOID' ? fn : undefined;
}

/** The first item of the VOI LUT Sequence (PS3.3 C.11.2.1.1), or undefined. */
export function readVoiLut(dataset: DicomDataset, littleEndian: boolean, signedInput: boolean): Lut | undefined {
  const item = dataset.get(VOI_LUT_SEQUENCE)?.items?.[0];
  return item ? readLut(item, '00283002', '00283006', littleEndian, signedInput) : undefined;
}

/**
 * The window dcmtk's min-max mode (+Wm) uses: center (min + max + 1) / 2, width max − min + 1, so
 * that with the LINEAR function min maps to `low` and max to `high` (PS3.3 C.11.2.1.2.1).
 */
export function minMaxWindow(values: ArrayLike<number>): VoiWindow {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return { center: 0.5, width: 1 };
  return { center: (min + max + 1) / 2, width: max - min + 1 };
}

/**
 * Window LINEAR (PS3.3 C.11.2.1.2.1): x ≤ c − 0.5 − (w − 1)/2 → low; x > c − 0.5 + (w − 1)/2 → high;
 * else ((x − (c − 0.5)) / (w − 1) + 0.5) × (high − low) + low, truncated.
 */
export function windowLinear<T extends DisplayValues>(values: ArrayLike<number>, window: VoiWindow, range: OutputRange, out: T): T {
  const { center, width } = window;
  const { low, high } = range;
  const width1 = width - 1;
  const left = center - 0.5 - width1 / 2;
  const right = center - 0.5 + width1 / 2;
  const outRange = high - low;
  // Same arithmetic as dcmtk (offset + x × gradient) so truncation lands on the same integers.
  const offset = width1 === 0 ? 0 : high - ((center - 0.5) / width1 + 0.5) * outRange;
  const gradient = width1 === 0 ? 0 : outRange / width1;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    out[i] = x <= left ? low : x > right ? high : Math.trunc(offset + x * gradient);
  }
  return out;
}

/**
 * Window LINEAR_EXACT (PS3.3 C.11.2.1.3.2): x ≤ c − w/2 → low; x > c + w/2 → high;
 * else ((x − c) / w + 0.5) × (high − low) + low, truncated.
 */
export function windowLinearExact<T extends DisplayValues>(values: ArrayLike<number>, window: VoiWindow, range: OutputRange, out: T): T {
  const { center, width } = window;
  const { low, high } = range;
  const left = center - width / 2;
  const right = center + width / 2;
  const outRange = high - low;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    out[i] = x <= left ? low : x > right ? high : Math.trunc(((x - center) / width + 0.5) * outRange + low);
  }
  return out;
}

/** Window SIGMOID (PS3.3 C.11.2.1.3.1): (high − low) / (1 + exp(−4 (x − c) / w)) + low, truncated. */
export function windowSigmoid<T extends DisplayValues>(values: ArrayLike<number>, window: VoiWindow, range: OutputRange, out: T): T {
  const { center, width } = window;
  const { low, high } = range;
  const outRange = high - low;
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.trunc(outRange / (1 + Math.exp((-4 * (values[i]! - center)) / width)) + low);
  }
  return out;
}

/** Applies a VOI window with the given function (PS3.3 C.11.2.1.2, C.11.2.1.3). */
export function applyWindow<T extends DisplayValues>(values: ArrayLike<number>, window: VoiWindow, fn: VoiFunction, range: OutputRange, out: T): T {
  if (fn === 'SIGMOID') return windowSigmoid(values, window, range, out);
  if (fn === 'LINEAR_EXACT') return windowLinearExact(values, window, range, out);
  return windowLinear(values, window, range, out);
}

/**
 * VOI LUT (PS3.3 C.11.2.1.1): inputs clamp to the table's ends. For 8-bit output an entry v of an
 * n-bit table maps to low + v × 256 / 2ⁿ toward high (dcmtk's scaling; for 8-bit tables the entry
 * itself); for 16-bit output to v × 65535 / (2ⁿ − 1), so the table's full range spans 0..65535.
 */
export function applyVoiLut<T extends DisplayValues>(values: ArrayLike<number>, lut: Lut, range: OutputRange, out: T): T {
  const last = lut.data.length - 1;
  const max = Math.max(range.low, range.high);
  const inverse = range.low > range.high;
  // y = v × num / den, divided last so that the top entry maps exactly to max
  const num = max === 255 ? 256 : max;
  const den = max === 255 ? 2 ** lut.bits : 2 ** lut.bits - 1;
  for (let i = 0; i < values.length; i++) {
    const k = Math.trunc(values[i]! - lut.firstMapped);
    const y = Math.min(max, Math.trunc((lut.data[k <= 0 ? 0 : k >= last ? last : k]! * num) / den));
    out[i] = inverse ? max - y : y;
  }
  return out;
}
