/**
 * Renders every natively encoded corpus image and compares frame 1 with dcmtk's reference PNG
 * (../shared/dicom-corpus/README.md: dcm2pnm +on -O with +Wi 1 / +Wl 1 / +Ww / +Wm), by PSNR
 * computed exactly as tools/compare-png.mjs does. Multi-frame files render every frame.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { parseHeader } from '../../src/dicom/header.js';
import { renderFrame } from '../../src/dicom/render.js';
import { datasetSource, scanDicom } from '../../src/dicom/scan.js';
import { findTransferSyntax } from '../../src/dicom/transfer-syntax.js';
import { InconsistentImageError, NoPixelDataError } from '../../src/errors.js';
import { corpusOrSkip, type ManifestEntry } from '../helpers/corpus.js';
import { decodePng, psnr } from '../helpers/psnr.js';

const corpus = corpusOrSkip('render');
const MIN_PSNR_DB = 40;

/**
 * Files allowed below MIN_PSNR_DB because the reference itself is at fault, with the evidence.
 * Empty: every native reference is matched (most bit for bit; see the PSNR report).
 */
const ALLOWED_BELOW: Record<string, string> = {};

/** Files whose image attributes contradict their pixel data: rendering must fail cleanly. */
const INCONSISTENT = ['dwv/data/dwv-test_no-number-rows.dcm', 'orthanc-tests/2026-05-26-oob-monochrome-65535.dcm'];

/** Native (uncompressed) per the transfer syntax registry; files without meta are native data sets. */
function isNative(entry: ManifestEntry): boolean {
  if (entry.transferSyntaxUID === null) return true;
  const ts = findTransferSyntax(entry.transferSyntaxUID);
  return ts !== undefined && !ts.encapsulated;
}

function open(entry: ManifestEntry) {
  const source = new BufferByteSource(corpus!.read(entry.path));
  const structure = scanDicom(source);
  const { dataset } = parseHeader(source, structure);
  return { dataset, structure, pixels: datasetSource(source, structure) };
}

const files = corpus?.manifest.files ?? [];
const rendered = files.filter((f) => isNative(f) && f.referenceRender?.png && !INCONSISTENT.includes(f.path));
const multiFrame = files.filter((f) => isNative(f) && f.hasPixelData && (f.numberOfFrames ?? 1) > 1 && !INCONSISTENT.includes(f.path));
const withoutPixels = files.filter((f) => !f.hasPixelData);
const report: string[] = [];

describe.skipIf(!corpus)('corpus: native renders match the dcmtk references', () => {
  afterAll(() => {
    if (report.length) console.log(`PSNR of frame 1 vs reference (dB, max |diff|):\n${report.sort().join('\n')}`);
  });

  it('finds the native files of the corpus', () => {
    expect(rendered.length).toBeGreaterThanOrEqual(35);
    expect(multiFrame.length).toBeGreaterThanOrEqual(7);
  });

  it.each(rendered.map((f) => [f.path, f] as const))('%s', (_path, entry) => {
    const { dataset, structure, pixels } = open(entry);
    const image = renderFrame(dataset, structure, pixels, { frame: 1 });
    const ref = decodePng(readFileSync(corpus!.file(entry.referenceRender!.png!)));
    const mine = decodePng(image.png);
    expect([image.width, image.height]).toEqual([ref.width, ref.height]);
    expect(image.channels).toBe(entry.referenceRender!.colorType === 'rgb' ? 3 : 1);
    const { psnr: db, maxAbsDiff } = psnr(ref, mine);
    report.push(`${(db === Infinity ? 'inf' : db.toFixed(2)).padStart(7)}  ${maxAbsDiff.toFixed(0).padStart(3)}  ${entry.path}`);
    if (ALLOWED_BELOW[entry.path] === undefined) expect(db).toBeGreaterThanOrEqual(MIN_PSNR_DB);
  });
});

describe.skipIf(!corpus)('corpus: every frame of native multi-frame files renders', () => {
  it.each(multiFrame.map((f) => [f.path, f] as const))('%s', (_path, entry) => {
    const { dataset, structure, pixels } = open(entry);
    const frames = entry.numberOfFrames!;
    const first = renderFrame(dataset, structure, pixels, { frame: 1 }).png;
    let differs = false;
    for (let frame = 1; frame <= frames; frame++) {
      const image = renderFrame(dataset, structure, pixels, { frame });
      expect([image.width, image.height]).toEqual([entry.columns, entry.rows]);
      if (!image.png.equals(first)) differs = true;
    }
    // A frame offset bug would render frame 1 again and again.
    expect(differs).toBe(true);
  });
});

describe.skipIf(!corpus)('corpus: files that cannot be rendered fail with typed errors', () => {
  it.each(withoutPixels.map((f) => [f.path, f] as const))('%s has no pixel data', (_path, entry) => {
    const { dataset, structure, pixels } = open(entry);
    expect(() => renderFrame(dataset, structure, pixels, { frame: 1 })).toThrow(NoPixelDataError);
  });

  it.each(INCONSISTENT)('%s is inconsistent', (path) => {
    const entry = files.find((f) => f.path === path)!;
    const { dataset, structure, pixels } = open(entry);
    expect(() => renderFrame(dataset, structure, pixels, { frame: 1 })).toThrow(InconsistentImageError);
  });
});
