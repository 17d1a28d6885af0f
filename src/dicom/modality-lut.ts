/**
 * Modality LUT stage (PS3.3 C.11.1): stored values → modality values (e.g. Hounsfield units), by
 * Rescale Slope/Intercept or a Modality LUT Sequence. Also the LUT reader the VOI LUT and palette
 * stages share (LUT Descriptor + LUT Data, PS3.3 C.11.1.1.1).
 */
import type { DicomDataset } from './dataset.js';
import { elementNumbers, firstNumber } from './image-info.js';
import type { StoredValues } from './pixels.js';

/** A lookup table: input `firstMapped` maps to `data[0]`; inputs outside the table clamp to its ends. */
export interface Lut {
  readonly firstMapped: number;
  readonly data: Uint16Array;
  /** Bits per entry from the LUT Descriptor's third value. */
  readonly bits: number;
}

export type ModalityTransform =
  | { readonly kind: 'rescale'; readonly slope: number; readonly intercept: number }
  | { readonly kind: 'lut'; readonly lut: Lut };

const RESCALE_INTERCEPT = '00281052';
const RESCALE_SLOPE = '00281053';
const MODALITY_LUT_SEQUENCE = '00283000';
const PIXEL_VALUE_TRANSFORMATION_SEQUENCE = '00289145';
const SHARED_FUNCTIONAL_GROUPS = '52009229';
const PER_FRAME_FUNCTIONAL_GROUPS = '52009230';

/**
 * The first item of functional group macro `sequenceTag` that applies to frame `frameIndex`
 * (0-based): per-frame group first, then the shared group (PS3.3 C.7.6.16).
 */
export function functionalGroupItem(dataset: DicomDataset, frameIndex: number, sequenceTag: string): DicomDataset | undefined {
  const perFrame = dataset.get(PER_FRAME_FUNCTIONAL_GROUPS)?.items?.[frameIndex]?.get(sequenceTag)?.items?.[0];
  if (perFrame) return perFrame;
  return dataset.get(SHARED_FUNCTIONAL_GROUPS)?.items?.[0]?.get(sequenceTag)?.items?.[0];
}

/**
 * Reads a LUT (PS3.3 C.11.1.1.1): descriptor [entries (0 = 65536), first mapped value, bits per
 * entry], data as US values or OW bytes in the data set's byte order. 8-bit entries may be packed two
 * per 16-bit word (PS3.3 C.7.6.3.1.6) or one per word; the data length tells which. The first mapped
 * value is signed when the pixel data is (descriptor VR "US or SS"). Returns undefined when absent or unusable.
 */
export function readLut(item: DicomDataset, descriptorTag: string, dataTag: string, littleEndian: boolean, signedInput: boolean): Lut | undefined {
  const descriptor = elementNumbers(item.get(descriptorTag));
  const dataElement = item.get(dataTag);
  if (descriptor.length < 3 || !dataElement) return undefined;
  const [count0, first0, bits] = descriptor as [number, number, number];
  if (![count0, first0, bits].every(Number.isInteger) || bits < 1 || bits > 16) return undefined;
  const count = count0 === 0 ? 65536 : count0;
  const firstMapped = signedInput && first0 > 0x7fff ? first0 - 0x10000 : first0;
  const data = new Uint16Array(count);
  const values = elementNumbers(dataElement);
  if (values.length > 0) {
    if (values.length >= count) {
      for (let i = 0; i < count; i++) data[i] = values[i]!;
    } else if (bits <= 8 && values.length * 2 >= count) {
      // Two 8-bit entries per 16-bit word, low byte first.
      for (let i = 0; i < count; i++) data[i] = (values[i >> 1]! >> ((i & 1) * 8)) & 0xff;
    } else return undefined;
  } else {
    const bytes = dataElement.bytes;
    if (!bytes) return undefined;
    if (bytes.length >= count * 2) {
      for (let i = 0, j = 0; i < count; i++, j += 2) data[i] = littleEndian ? bytes[j]! | (bytes[j + 1]! << 8) : (bytes[j]! << 8) | bytes[j + 1]!;
    } else if (bits <= 8 && bytes.length >= count) {
      // Packed 8-bit entries; in big endian the bytes of each 16-bit word are swapped.
      for (let i = 0; i < count; i++) data[i] = bytes[littleEndian ? i : i ^ 1]!;
    } else return undefined;
  }
  return { firstMapped, data, bits };
}

/** Looks every value up in the LUT, clamping below/above its range (PS3.3 C.11.1.1.1). */
export function applyLut(values: ArrayLike<number>, lut: Lut): Float64Array {
  const out = new Float64Array(values.length);
  const last = lut.data.length - 1;
  const first = lut.firstMapped;
  const data = lut.data;
  for (let i = 0; i < values.length; i++) {
    const k = Math.trunc(values[i]! - first);
    out[i] = data[k <= 0 ? 0 : k >= last ? last : k]!;
  }
  return out;
}

/**
 * The modality transform for frame `frameIndex` (PS3.3 C.11.1): a Modality LUT Sequence wins over
 * rescale; the rescale comes from the frame's Pixel Value Transformation functional group, else the
 * top level. As dcmtk does, rescaling needs both slope and intercept and a non-zero slope.
 */
export function readModalityTransform(dataset: DicomDataset, frameIndex: number, littleEndian: boolean, signedInput: boolean): ModalityTransform {
  const lutItem = dataset.get(MODALITY_LUT_SEQUENCE)?.items?.[0];
  if (lutItem) {
    const lut = readLut(lutItem, '00283002', '00283006', littleEndian, signedInput);
    if (lut) return { kind: 'lut', lut };
  }
  const source = functionalGroupItem(dataset, frameIndex, PIXEL_VALUE_TRANSFORMATION_SEQUENCE) ?? dataset;
  let slope = firstNumber(source, RESCALE_SLOPE);
  let intercept = firstNumber(source, RESCALE_INTERCEPT);
  if (slope === undefined || intercept === undefined) {
    slope = firstNumber(dataset, RESCALE_SLOPE);
    intercept = firstNumber(dataset, RESCALE_INTERCEPT);
  }
  if (slope === undefined || intercept === undefined || !Number.isFinite(slope) || !Number.isFinite(intercept) || slope === 0) {
    return { kind: 'rescale', slope: 1, intercept: 0 };
  }
  return { kind: 'rescale', slope, intercept };
}

/**
 * Rescale: modality value = stored × slope + intercept (PS3.3 C.11.1.1.2), kept real-valued as the
 * standard defines it. (dcmtk truncates it to an integer; with fractional slopes that moves a few
 * pixels of its renders by one gray level, e.g. orthanc-tests/Issue94.dcm, 78 dB.)
 */
export function rescale(values: StoredValues, slope: number, intercept: number): Float64Array {
  const out = new Float64Array(values.length);
  if (slope === 1 && intercept === 0) {
    out.set(values);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = values[i]! * slope + intercept;
  }
  return out;
}

/** Applies a modality transform to stored values (PS3.3 C.11.1). */
export function applyModalityTransform(values: StoredValues, transform: ModalityTransform): Float64Array {
  return transform.kind === 'lut' ? applyLut(values, transform.lut) : rescale(values, transform.slope, transform.intercept);
}
