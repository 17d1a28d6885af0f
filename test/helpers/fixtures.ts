/** Small synthetic DICOM images for tests that must run without the shared corpus. */
import type { ImageInfo } from '../../src/dicom/image-info.js';
import { basicElements, type BuildElement, buildDicom, EXPLICIT_LE } from './dicom-builder.js';

export interface SyntheticImageOptions {
  rows?: number;
  columns?: number;
  frames?: number;
  /** Stored values, row by row, frame after frame (signed 16-bit). Default: a ramp. */
  values?: readonly number[];
  window?: { center: number; width: number };
  rescale?: { slope: number; intercept: number };
  photometric?: 'MONOCHROME1' | 'MONOCHROME2';
  sopInstanceUid?: string;
  patientName?: string;
  transferSyntax?: string;
  extra?: readonly BuildElement[];
  /** Write fewer pixel bytes than the attributes need (an inconsistent image). */
  truncatePixelDataTo?: number;
}

/** An ImageInfo for pipeline unit tests: 1×4 unsigned 16-bit MONOCHROME2, one frame, unless overridden. */
export function imageInfo(overrides: Partial<ImageInfo> = {}): ImageInfo {
  return {
    rows: 1,
    columns: 4,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 0,
    photometricInterpretation: 'MONOCHROME2',
    planarConfiguration: 0,
    numberOfFrames: 1,
    ...overrides,
  };
}

export interface ImagePixelOptions {
  rows: number;
  columns: number;
  samplesPerPixel?: number;
  photometric?: string;
  /** Planar Configuration (0028,0006), written for colour images. */
  planar?: 0 | 1;
  bitsAllocated?: number;
  bitsStored?: number;
  signed?: boolean;
}

/** The Image Pixel module's elements (PS3.3 C.7.6.3), ascending. Defaults: 8-bit unsigned MONOCHROME2. */
export function imagePixelElements(o: ImagePixelOptions): BuildElement[] {
  const samples = o.samplesPerPixel ?? 1;
  const allocated = o.bitsAllocated ?? 8;
  const stored = o.bitsStored ?? allocated;
  return [
    { tag: '00280002', vr: 'US', value: samples },
    { tag: '00280004', vr: 'CS', value: o.photometric ?? (samples === 3 ? 'RGB' : 'MONOCHROME2') },
    ...(samples > 1 ? [{ tag: '00280006', vr: 'US', value: o.planar ?? 0 }] : []),
    { tag: '00280010', vr: 'US', value: o.rows },
    { tag: '00280011', vr: 'US', value: o.columns },
    { tag: '00280100', vr: 'US', value: allocated },
    { tag: '00280101', vr: 'US', value: stored },
    { tag: '00280102', vr: 'US', value: stored - 1 },
    { tag: '00280103', vr: 'US', value: o.signed ? 1 : 0 },
  ];
}

/** A 16-bit signed MONOCHROME CT-like image. */
export function syntheticImage(o: SyntheticImageOptions = {}): Buffer {
  const rows = o.rows ?? 4;
  const columns = o.columns ?? 4;
  const frames = o.frames ?? 1;
  const count = rows * columns * frames;
  const values = o.values ?? Array.from({ length: count }, (_, i) => (i % 3000) * 10 - 50);
  const pixels = Buffer.alloc(count * 2);
  values.forEach((v, i) => pixels.writeInt16LE(v, i * 2));
  const native = o.truncatePixelDataTo !== undefined ? pixels.subarray(0, o.truncatePixelDataTo) : pixels;
  const extra: BuildElement[] = [
    ...imagePixelElements({ rows, columns, photometric: o.photometric ?? 'MONOCHROME2', bitsAllocated: 16, signed: true }),
    ...(frames > 1 ? [{ tag: '00280008', vr: 'IS', value: String(frames) }] : []),
    ...(o.window
      ? [
          { tag: '00281050', vr: 'DS', value: String(o.window.center) },
          { tag: '00281051', vr: 'DS', value: String(o.window.width) },
        ]
      : []),
    ...(o.rescale
      ? [
          { tag: '00281052', vr: 'DS', value: String(o.rescale.intercept) },
          { tag: '00281053', vr: 'DS', value: String(o.rescale.slope) },
        ]
      : []),
    ...(o.extra ?? []),
  ];
  const elements = basicElements(extra).map((e) => {
    if (e.tag === '00080018' && o.sopInstanceUid) return { ...e, value: o.sopInstanceUid };
    if (e.tag === '00100010' && o.patientName) return { ...e, value: o.patientName };
    return e;
  });
  return buildDicom({
    transferSyntax: o.transferSyntax ?? EXPLICIT_LE,
    meta: { sopInstanceUid: o.sopInstanceUid ?? '1.2.3.4.5.6.7' },
    elements,
    pixelData: { native, vr: 'OW' },
  });
}
