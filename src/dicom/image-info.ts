/**
 * The Image Pixel Module (PS3.3 C.7.6.3): what the pixel data holds and how it is laid out,
 * validated once here so the later stages can trust it.
 */
import { InconsistentImageError, NoPixelDataError } from '../errors.js';
import type { DicomDataset, DicomElement } from './dataset.js';
import type { DicomStructure } from './scan.js';

export interface ImageInfo {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  /** 0 = unsigned, 1 = two's complement. */
  readonly pixelRepresentation: 0 | 1;
  /** Upper-case, trimmed, e.g. "MONOCHROME2", "RGB", "YBR_FULL_422", "PALETTE COLOR". */
  readonly photometricInterpretation: string;
  /** 0 = samples interleaved per pixel, 1 = one plane per sample (only meaningful with > 1 sample). */
  readonly planarConfiguration: 0 | 1;
  readonly numberOfFrames: number;
}

const ROWS = '00280010';
const COLUMNS = '00280011';
const SAMPLES_PER_PIXEL = '00280002';
const PHOTOMETRIC_INTERPRETATION = '00280004';
const PLANAR_CONFIGURATION = '00280006';
const NUMBER_OF_FRAMES = '00280008';
const BITS_ALLOCATED = '00280100';
const BITS_STORED = '00280101';
const HIGH_BIT = '00280102';
const PIXEL_REPRESENTATION = '00280103';

/** Numeric values of an element (DS/IS/US/SS…), NaN for unparsable ones; [] when absent or empty. */
export function elementNumbers(element: DicomElement | undefined): number[] {
  if (!element) return [];
  if (element.values.length > 0) {
    return element.values.map((v) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN));
  }
  // VR UN (e.g. CP-246 files): a 2-byte value is a little-endian US of the Image Pixel Module.
  const b = element.bytes;
  if (element.vr === 'UN' && b && b.length === 2) return [b[0]! | (b[1]! << 8)];
  return [];
}

/** First numeric value of the element with this tag, or undefined when absent or empty. */
export function firstNumber(dataset: DicomDataset, tag: string): number | undefined {
  return elementNumbers(dataset.get(tag))[0];
}

/** First text value of the element with this tag, trimmed and upper-cased; undefined when absent or empty. */
export function firstCode(dataset: DicomDataset, tag: string): string | undefined {
  const v = dataset.get(tag)?.values[0];
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toUpperCase();
  return s === '' ? undefined : s;
}

function describe(tag: string, keyword: string): string {
  return `${keyword} (${tag.slice(0, 4)},${tag.slice(4)})`;
}

function required(dataset: DicomDataset, tag: string, keyword: string, valid: (n: number) => boolean, expected: string): number {
  const n = firstNumber(dataset, tag);
  if (n === undefined) throw new InconsistentImageError(`${describe(tag, keyword)} is missing or empty`);
  if (!Number.isInteger(n) || !valid(n)) throw new InconsistentImageError(`${describe(tag, keyword)} is ${n}, expected ${expected}`);
  return n;
}

function optional(dataset: DicomDataset, tag: string, keyword: string, fallback: number, valid: (n: number) => boolean, expected: string): number {
  const n = firstNumber(dataset, tag);
  if (n === undefined) return fallback;
  if (!Number.isInteger(n) || !valid(n)) throw new InconsistentImageError(`${describe(tag, keyword)} is ${n}, expected ${expected}`);
  return n;
}

/**
 * Bits one frame occupies in native (uncompressed) pixel data (PS3.5 §8.1.1). YBR_FULL_422 stores
 * two luminance and one pair of chrominance samples per two pixels (PS3.3 C.7.6.3.1.2).
 */
export function nativeFrameBits(info: ImageInfo): number {
  const pixels = info.rows * info.columns;
  const samples = info.photometricInterpretation === 'YBR_FULL_422' ? pixels * 2 : pixels * info.samplesPerPixel;
  return samples * info.bitsAllocated;
}

/** The Image Pixel Module of the data set, validated against its pixel data (PS3.3 C.7.6.3.1). */
export function readImageInfo(dataset: DicomDataset, structure: DicomStructure): ImageInfo {
  const pixelData = structure.pixelData;
  if (!pixelData) throw new NoPixelDataError();

  const rows = required(dataset, ROWS, 'Rows', (n) => n >= 1 && n <= 0xffff, 'an integer 1..65535');
  const columns = required(dataset, COLUMNS, 'Columns', (n) => n >= 1 && n <= 0xffff, 'an integer 1..65535');
  // BitsAllocated 12 is the ACR-NEMA packed format (two pixels in three bytes, fo-dicom/GH340.dcm);
  // dcmtk reads it as a little-endian bit stream, as we do for 1-bit data.
  const bitsAllocated = required(dataset, BITS_ALLOCATED, 'BitsAllocated', (n) => [1, 8, 12, 16, 32].includes(n), '1, 8, 12, 16 or 32');
  // ACR-NEMA files sometimes omit BitsStored / HighBit: assume all bits used, as the defaults of PS3.5 §8.1.1 imply.
  const bitsStored = optional(dataset, BITS_STORED, 'BitsStored', bitsAllocated, (n) => n >= 1 && n <= bitsAllocated, `an integer 1..BitsAllocated (${bitsAllocated})`);
  const highBit = optional(
    dataset,
    HIGH_BIT,
    'HighBit',
    bitsStored - 1,
    (n) => n >= bitsStored - 1 && n < bitsAllocated,
    `an integer ${bitsStored - 1}..${bitsAllocated - 1} (BitsStored − 1 .. BitsAllocated − 1)`,
  );
  // Missing PixelRepresentation: 0 (unsigned), the ACR-NEMA default dcmtk's reference for
  // orthanc-tests/MultiframeWindowing.dcm was made with.
  const pixelRepresentation = optional(dataset, PIXEL_REPRESENTATION, 'PixelRepresentation', 0, (n) => n === 0 || n === 1, '0 or 1') as 0 | 1;

  let photometric = firstCode(dataset, PHOTOMETRIC_INTERPRETATION);
  const declaredSamples = firstNumber(dataset, SAMPLES_PER_PIXEL);
  // Missing PhotometricInterpretation with one sample: MONOCHROME2, the ACR-NEMA default
  // (fo-dicom/GH340.dcm; its reference was rendered with this assumption).
  if (photometric === undefined) {
    if (declaredSamples === undefined || declaredSamples === 1) photometric = 'MONOCHROME2';
    else throw new InconsistentImageError(`${describe(PHOTOMETRIC_INTERPRETATION, 'PhotometricInterpretation')} is missing with ${declaredSamples} samples per pixel`);
  }
  const expectedSamples = photometric.startsWith('MONOCHROME') || photometric === 'PALETTE COLOR' ? 1 : 3;
  // Missing SamplesPerPixel (ACR-NEMA): the number the photometric interpretation implies.
  const samplesPerPixel = optional(dataset, SAMPLES_PER_PIXEL, 'SamplesPerPixel', expectedSamples, (n) => n === expectedSamples, `${expectedSamples} for ${photometric}`);
  const planarConfiguration = (samplesPerPixel > 1
    ? optional(dataset, PLANAR_CONFIGURATION, 'PlanarConfiguration', 0, (n) => n === 0 || n === 1, '0 or 1')
    : 0) as 0 | 1;
  // NumberOfFrames absent: a single frame (PS3.3 C.7.6.6: the Multi-frame Module is optional).
  const numberOfFrames = optional(dataset, NUMBER_OF_FRAMES, 'NumberOfFrames', 1, (n) => n >= 1, 'an integer ≥ 1');

  const info: ImageInfo = {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    photometricInterpretation: photometric,
    planarConfiguration,
    numberOfFrames,
  };

  if (!structure.transferSyntax.encapsulated) {
    if (photometric === 'YBR_FULL_422' && (bitsAllocated !== 8 || planarConfiguration !== 0 || columns % 2 !== 0)) {
      throw new InconsistentImageError(
        `native YBR_FULL_422 pixel data needs BitsAllocated 8, PlanarConfiguration 0 and an even number of columns, got ${bitsAllocated}, ${planarConfiguration} and ${columns}`,
      );
    }
    const have = pixelData.length;
    // Exact integer arithmetic: 65535² × 16 bits × frames overflows 2^53 only beyond ~2 million frames.
    const need = Math.ceil((nativeFrameBits(info) * numberOfFrames) / 8);
    if (have === null || have < need) {
      throw new InconsistentImageError(
        `pixel data has ${have === null ? 'an undefined length' : `${have} bytes`}, ${rows}×${columns}×${numberOfFrames} frame(s)×${samplesPerPixel} sample(s)×${bitsAllocated} bits need ${need}`,
      );
    }
  }
  return info;
}
