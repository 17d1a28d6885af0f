/**
 * Renders one frame to PNG: decode (per transfer syntax) → modality LUT → VOI → presentation →
 * encode for grayscale; decode → colour conversion → encode for colour (PS3.3 C.11, PS3.4 N.2).
 */
import { InconsistentImageError, InvalidArgumentError, FrameOutOfRangeError, UnsupportedTransferSyntaxError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import type { DecodedFrame } from './decoders/codec.js';
import { readEncapsulatedFrame } from './decoders/frame-fragments.js';
import { paletteToRgb, readPalette, rgbTo8Bit, ybrFullToRgb } from './color.js';
import type { DicomDataset } from './dataset.js';
import { type ImageInfo, readImageInfo } from './image-info.js';
import { applyModalityTransform, readModalityTransform } from './modality-lut.js';
import { encodePng } from './png.js';
import { fitWithin, MAX_THUMBNAIL_SIZE, resizeArea } from './resize.js';
import { readNativeFrame, type StoredValues } from './pixels.js';
import type { DicomStructure } from './scan.js';
import type { TransferSyntax } from './transfer-syntax.js';
import { applyVoiLut, applyWindow, type DisplayValues, minMaxWindow, presentationRange, readVoiLut, readWindow, readVoiFunction } from './voi.js';

/**
 * Revision of the rendering pipeline's output. Bump it whenever a change alters the pixels of any
 * rendering: it is part of every image URL and ETag, so browsers holding an "immutable" PNG from
 * an older pipeline fetch the new one.
 */
export const RENDERER_REVISION = 1;

export interface RenderOptions {
  /** 1-based frame number. */
  frame: number;
  /** VOI window overriding the file's (PS3.3 C.11.2.1.2); width must be > 0. */
  window?: { center: number; width: number };
  /** Fit the output within maxSize × maxSize, keeping the aspect ratio (area averaging; never enlarged). */
  maxSize?: number;
  /**
   * Gray output depth (default 8): 16 windows to 0..65535 with the same formulas (a 16-bit gray
   * PNG). Colour images are always 8-bit RGB.
   */
  bitDepth?: 8 | 16;
}

export interface RenderedImage {
  png: Buffer;
  /** Size of the PNG (after fitting within maxSize). */
  width: number;
  height: number;
  channels: 1 | 3;
  bitDepth: 8 | 16;
}

/** Decodes frame `frameIndex` (0-based) to stored values, interleaved samples, and says their colour model. */
export type FrameDecoder = (info: ImageInfo, structure: DicomStructure, pixels: ByteSource, frameIndex: number) => DecodedFrame;

const nativeDecoder: FrameDecoder = (info, structure, pixels, frameIndex) => ({
  values: readNativeFrame(info, structure.pixelData!, structure.transferSyntax.littleEndian, pixels, frameIndex),
  // readNativeFrame expands YBR_FULL_422 to one Cb Cr per pixel; the colour transform is the same.
  photometricInterpretation: info.photometricInterpretation,
});

/**
 * The pixel decoder for a transfer syntax, chosen from the registry's description of it (PS3.5 §8,
 * §10): native encodings are read directly; encapsulated ones by the registry's codec, from the
 * requested frame's fragments only (PS3.5 A.4). No codec: 415 naming the transfer syntax.
 */
export function frameDecoderFor(ts: TransferSyntax): FrameDecoder {
  if (ts.decodable && !ts.encapsulated) return nativeDecoder;
  const codec = ts.codec;
  if (ts.encapsulated && codec) {
    return (info, structure, pixels, frameIndex) =>
      codec.decode(readEncapsulatedFrame(structure.pixelData!, pixels, info.numberOfFrames, frameIndex, codec.endsWithEoi), info);
  }
  throw new UnsupportedTransferSyntaxError(ts.uid, ts.name);
}

function checkOptions(options: RenderOptions): void {
  if (!Number.isInteger(options.frame) || options.frame < 1) {
    throw new InvalidArgumentError(`frame must be an integer ≥ 1, got ${options.frame}`);
  }
  const w = options.window;
  if (w) {
    if (!Number.isFinite(w.center)) throw new InvalidArgumentError(`window center must be a finite number, got ${w.center}`);
    if (!Number.isFinite(w.width) || w.width <= 0) throw new InvalidArgumentError(`window width must be a finite number > 0, got ${w.width}`);
  }
  const { maxSize, bitDepth } = options;
  if (maxSize !== undefined && (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_THUMBNAIL_SIZE)) {
    throw new InvalidArgumentError(`maxSize must be an integer from 1 to ${MAX_THUMBNAIL_SIZE}, got ${maxSize}`);
  }
  if (bitDepth !== undefined && bitDepth !== 8 && bitDepth !== 16) throw new InvalidArgumentError(`bitDepth must be 8 or 16, got ${bitDepth}`);
}

/**
 * Grayscale pipeline (PS3.3 C.11, PS3.4 N.2.1): modality transform, then the caller's window, else the
 * frame's first window, else the first VOI LUT, else the min-max window of the frame's modality
 * values; polarity per MONOCHROME1 / Presentation LUT Shape.
 */
export function renderGray(
  dataset: DicomDataset,
  info: ImageInfo,
  stored: StoredValues,
  frameIndex: number,
  littleEndian: boolean,
  window?: { center: number; width: number },
  bitDepth: 8 | 16 = 8,
): DisplayValues {
  const fused = storedValueRange(stored);
  if (fused) {
    // Every stage is a function of the stored value alone: run the same stages once per value of
    // [min, max] (at most 65536 values) and look each pixel up. Identical output, by construction.
    const { min, max } = fused;
    const domain = new Int32Array(max - min + 1);
    for (let v = 0; v < domain.length; v++) domain[v] = min + v;
    const table = grayStages(dataset, info, domain, frameIndex, littleEndian, window, bitDepth, (modality) => presentModalityRange(stored, min, modality));
    return table instanceof Uint16Array ? lookUp(stored, min, table, new Uint16Array(stored.length)) : lookUp(stored, min, table, new Uint8Array(stored.length));
  }
  return grayStages(dataset, info, stored, frameIndex, littleEndian, window, bitDepth, minMaxWindow);
}

/** out[i] = table[stored[i] − min]. */
function lookUp<T extends DisplayValues>(stored: StoredValues, min: number, table: T, out: T): T {
  for (let i = 0; i < stored.length; i++) out[i] = table[stored[i]! - min]!;
  return out;
}

/** Stored values spanning at most 2^16 integers (all ≤ 16-bit images): their [min, max]; else undefined. */
function storedValueRange(stored: StoredValues): { min: number; max: number } | undefined {
  if (stored.length === 0) return undefined;
  let min = stored[0]!;
  let max = min;
  for (let i = 1; i < stored.length; i++) {
    const v = stored[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return max - min < 65536 ? { min, max } : undefined;
}

/**
 * The min-max window of the modality values of the pixels (not of the whole table): `modality[k]`
 * is the modality value of stored value min + k; only the values that occur count.
 */
function presentModalityRange(stored: StoredValues, min: number, modality: Float64Array): ReturnType<typeof minMaxWindow> {
  const present = new Uint8Array(modality.length);
  for (let i = 0; i < stored.length; i++) present[stored[i]! - min] = 1;
  let count = 0;
  for (let k = 0; k < present.length; k++) if (present[k]) count++;
  const values = new Float64Array(count);
  for (let k = 0, j = 0; k < present.length; k++) if (present[k]) values[j++] = modality[k]!;
  return minMaxWindow(values);
}

/** Modality transform, then VOI, then polarity (PS3.3 C.11, PS3.4 N.2.1) over `values`; `minMax` picks the fallback window. */
function grayStages(
  dataset: DicomDataset,
  info: ImageInfo,
  values: StoredValues,
  frameIndex: number,
  littleEndian: boolean,
  window: { center: number; width: number } | undefined,
  bitDepth: 8 | 16,
  minMax: (modality: Float64Array) => ReturnType<typeof minMaxWindow>,
): DisplayValues {
  const signed = info.pixelRepresentation === 1;
  const transform = readModalityTransform(dataset, frameIndex, littleEndian, signed);
  const modality = applyModalityTransform(values, transform);
  const range = presentationRange(info.photometricInterpretation, dataset, bitDepth === 16 ? 65535 : 255);
  const out = bitDepth === 16 ? new Uint16Array(modality.length) : new Uint8Array(modality.length);
  if (window) return applyWindow(modality, window, readWindow(dataset, frameIndex)?.fn ?? readVoiFunction(dataset) ?? 'LINEAR', range, out);
  const fileWindow = readWindow(dataset, frameIndex);
  if (fileWindow) return applyWindow(modality, fileWindow.window, fileWindow.fn, range, out);
  // The VOI LUT's input is the modality output: its first mapped value is signed when that can be negative.
  const modalitySigned = signed || (transform.kind === 'rescale' && (transform.intercept < 0 || transform.slope < 0));
  const voiLut = readVoiLut(dataset, littleEndian, modalitySigned);
  if (voiLut) return applyVoiLut(modality, voiLut, range, out);
  return applyWindow(modality, minMax(modality), 'LINEAR', range, out);
}

/** Renders frame `options.frame` (1-based) of the image to a gray (8- or 16-bit) or 8-bit RGB PNG, fitted within maxSize. */
export function renderFrame(dataset: DicomDataset, structure: DicomStructure, pixels: ByteSource, options: RenderOptions): RenderedImage {
  checkOptions(options);
  const info = readImageInfo(dataset, structure);
  if (options.frame > info.numberOfFrames) throw new FrameOutOfRangeError(options.frame, info.numberOfFrames);
  const decode = frameDecoderFor(structure.transferSyntax);
  const frameIndex = options.frame - 1;
  const decoded = decode(info, structure, pixels, frameIndex);
  const stored = decoded.values;
  const littleEndian = structure.transferSyntax.littleEndian;
  const width = info.columns;
  const height = info.rows;
  const pi = info.photometricInterpretation;
  // Colour model of the decoded samples: codecs may have converted colour already (JPEG YCbCr → RGB, JPEG 2000 inverse MCT).
  const colour = decoded.photometricInterpretation;

  let samples: DisplayValues;
  let channels: 1 | 3;
  if (pi === 'MONOCHROME1' || pi === 'MONOCHROME2') {
    samples = renderGray(dataset, info, stored, frameIndex, littleEndian, options.window, options.bitDepth);
    channels = 1;
  } else if (colour === 'RGB') {
    samples = rgbTo8Bit(stored, info.bitsStored, info.pixelRepresentation === 1);
    channels = 3;
  } else if (colour === 'YBR_FULL' || colour === 'YBR_FULL_422') {
    // dcmtk converts 8-bit YBR_FULL with integer tables and YBR_FULL_422 in floating point; follow it.
    samples = ybrFullToRgb(stored, info.bitsStored, pi === 'YBR_FULL' && info.bitsStored === 8);
    channels = 3;
  } else if (pi === 'PALETTE COLOR') {
    const palette = readPalette(dataset, littleEndian, info.pixelRepresentation === 1);
    if (!palette) throw new InconsistentImageError('PALETTE COLOR image without usable Palette Color Lookup Tables (0028,1101-1103 / 0028,1201-1203)');
    samples = paletteToRgb(stored, palette);
    channels = 3;
  } else {
    throw new InconsistentImageError(`photometric interpretation ${pi} is not supported for ${structure.transferSyntax.name} pixel data`);
  }
  return encodeOutput(samples, { width, height }, channels, options.maxSize);
}

/** Output stage: fit within maxSize (area averaging), then encode at the samples' depth. */
function encodeOutput(samples: DisplayValues, size: { width: number; height: number }, channels: 1 | 3, maxSize: number | undefined): RenderedImage {
  const fitted = fitWithin(size.width, size.height, maxSize);
  const out = fitted.width === size.width && fitted.height === size.height ? samples : resizeArea(samples, size, fitted, channels);
  const bitDepth = out instanceof Uint16Array ? 16 : 8;
  return { png: encodePng(out, fitted.width, fitted.height, channels), width: fitted.width, height: fitted.height, channels, bitDepth };
}
