/**
 * renderGray's fused path (one table over the stored values' range) against the stage-by-stage
 * pipeline it replaced: every modality transform × VOI case × polarity × depth, on random stored
 * values, must give identical display values.
 */
import { describe, expect, it } from 'vitest';
import { type DicomDataset, type DicomElement, ElementList } from '../../src/dicom/dataset.js';
import type { ImageInfo } from '../../src/dicom/image-info.js';
import { applyModalityTransform, readModalityTransform } from '../../src/dicom/modality-lut.js';
import type { StoredValues } from '../../src/dicom/pixels.js';
import { renderGray } from '../../src/dicom/render.js';
import { applyVoiLut, applyWindow, type DisplayValues, minMaxWindow, presentationRange, readVoiFunction, readVoiLut, readWindow } from '../../src/dicom/voi.js';

const el = (tag: string, vr: string, values: unknown[], extra: Partial<DicomElement> = {}): DicomElement => ({ tag, vr, values, length: 0, ...extra });

/** The pipeline before the fused table (stage by stage over every pixel), kept as the reference. */
function reference(dataset: DicomDataset, info: ImageInfo, stored: StoredValues, window: { center: number; width: number } | undefined, bitDepth: 8 | 16): DisplayValues {
  const signed = info.pixelRepresentation === 1;
  const transform = readModalityTransform(dataset, 0, true, signed);
  const modality = applyModalityTransform(stored, transform);
  const range = presentationRange(info.photometricInterpretation, dataset, bitDepth === 16 ? 65535 : 255);
  const out = bitDepth === 16 ? new Uint16Array(modality.length) : new Uint8Array(modality.length);
  if (window) return applyWindow(modality, window, readWindow(dataset, 0)?.fn ?? readVoiFunction(dataset) ?? 'LINEAR', range, out);
  const fileWindow = readWindow(dataset, 0);
  if (fileWindow) return applyWindow(modality, fileWindow.window, fileWindow.fn, range, out);
  const modalitySigned = signed || (transform.kind === 'rescale' && (transform.intercept < 0 || transform.slope < 0));
  const voiLut = readVoiLut(dataset, true, modalitySigned);
  if (voiLut) return applyVoiLut(modality, voiLut, range, out);
  return applyWindow(modality, minMaxWindow(modality), 'LINEAR', range, out);
}

function info(signed: boolean, photometricInterpretation: string): ImageInfo {
  return {
    rows: 1,
    columns: 1,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: signed ? 1 : 0,
    photometricInterpretation,
    planarConfiguration: 0,
    numberOfFrames: 1,
  };
}

/** Deterministic pseudo-random stored values in [lo, hi]. */
function storedValues(n: number, lo: number, hi: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = lo + ((x >>> 0) % (hi - lo + 1));
  }
  return out;
}

const lutSequence = (tag: string, count: number, first: number, bits: number, data: number[]) =>
  el(tag, 'SQ', [], { items: [new ElementList([el('00283002', 'US', [count, first, bits]), el('00283006', 'US', data)])] });

const modalities: Record<string, DicomElement[]> = {
  none: [],
  'rescale CT': [el('00281052', 'DS', [-1024]), el('00281053', 'DS', [1])],
  'rescale fractional': [el('00281052', 'DS', [-7.25]), el('00281053', 'DS', [0.37])],
  'rescale negative slope': [el('00281052', 'DS', [100]), el('00281053', 'DS', [-2.5])],
  'modality LUT': [lutSequence('00283000', 4096, 0, 16, Array.from({ length: 4096 }, (_, i) => (i * 7919) % 65536))],
};

const vois: Record<string, { elements: DicomElement[]; window?: { center: number; width: number } }> = {
  'min-max': { elements: [] },
  'file window LINEAR': { elements: [el('00281050', 'DS', [40]), el('00281051', 'DS', [400])] },
  'file window LINEAR_EXACT': { elements: [el('00281050', 'DS', [100.5]), el('00281051', 'DS', [1])] },
  'file window SIGMOID': { elements: [el('00281050', 'DS', [300]), el('00281051', 'DS', [1500]), el('00281056', 'CS', ['SIGMOID'])] },
  'caller window': { elements: [el('00281056', 'CS', ['LINEAR_EXACT'])], window: { center: -600, width: 1600 } },
  'caller window width 1': { elements: [], window: { center: 17, width: 1 } },
  'VOI LUT': { elements: [lutSequence('00283010', 2048, 0, 12, Array.from({ length: 2048 }, (_, i) => (i * 2) % 4096))] },
};
// The VOI LUT of the LINEAR_EXACT case is set through the VOI function element only when a window exists.
vois['file window LINEAR_EXACT']!.elements.push(el('00281056', 'CS', ['LINEAR_EXACT']));

describe('renderGray: the fused stored-value table equals the stage-by-stage pipeline', () => {
  const cases: [string, string, boolean, string, 8 | 16][] = [];
  for (const m of Object.keys(modalities))
    for (const v of Object.keys(vois))
      for (const signed of [false, true])
        for (const pi of ['MONOCHROME2', 'MONOCHROME1']) for (const depth of [8, 16] as const) cases.push([m, v, signed, pi, depth]);

  it.each(cases)('%s, %s, signed %s, %s, %i-bit', (m, v, signed, pi, depth) => {
    const voi = vois[v]!;
    const dataset = new ElementList([...modalities[m]!, ...voi.elements]);
    const stored = signed ? storedValues(5000, -2048, 3000, 7) : storedValues(5000, 0, 4095, 11);
    const got = renderGray(dataset, info(signed, pi), stored, 0, true, voi.window, depth);
    const want = reference(dataset, info(signed, pi), stored, voi.window, depth);
    expect(got.constructor).toBe(want.constructor);
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
  });

  it('takes the min-max window from the values that occur, not from the whole table', () => {
    // Stored 0 and 4095 occur; the modality LUT maps the values between them far outside.
    const lut = Array.from({ length: 4096 }, (_, i) => (i === 0 ? 100 : i === 4095 ? 200 : 60000));
    const dataset = new ElementList([lutSequence('00283000', 4096, 0, 16, lut)]);
    const stored = Int32Array.from([0, 4095, 0, 4095]);
    const got = Array.from(renderGray(dataset, info(false, 'MONOCHROME2'), stored, 0, true));
    expect(got).toEqual(Array.from(reference(dataset, info(false, 'MONOCHROME2'), stored, undefined, 8)));
    expect(got).toEqual([0, 254, 0, 254]); // window 100..200 (a table-wide one would put both near 0)
  });

  it('falls back to the stage-by-stage path beyond 2^16 distinct values (32-bit stored values)', () => {
    const dataset = new ElementList([el('00281052', 'DS', [0.5]), el('00281053', 'DS', [3])]);
    const stored = Int32Array.from([-100000, 0, 50, 100000]);
    const got = renderGray(dataset, info(true, 'MONOCHROME2'), stored, 0, true, undefined, 16);
    expect(Array.from(got)).toEqual(Array.from(reference(dataset, info(true, 'MONOCHROME2'), stored, undefined, 16)));
  });

  it('renders a single-value image like the reference', () => {
    const dataset = new ElementList([]);
    const stored = Int32Array.from([5, 5, 5]);
    expect(Array.from(renderGray(dataset, info(false, 'MONOCHROME2'), stored, 0, true))).toEqual(Array.from(reference(dataset, info(false, 'MONOCHROME2'), stored, undefined, 8)));
  });
});
