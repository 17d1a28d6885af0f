/**
 * Renders every corpus image that has a reference render — native, deflated, RLE, JPEG, JPEG-LS
 * and JPEG 2000 — and compares frame 1 with it (../shared/dicom-corpus/README.md: dcmtk's
 * dcm2pnm / dcmj2pnm / dcml2pnm, gdcmconv --raw first for JPEG 2000) by PSNR, computed exactly as
 * tools/compare-png.mjs does. Every frame of every multi-frame file renders, and frames differ.
 * Corrupt compressed data fails with a typed error.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type ByteSource, BufferByteSource } from '../../src/dicom/byte-source.js';
import { readEncapsulatedFrame } from '../../src/dicom/decoders/frame-fragments.js';
import { parseHeader } from '../../src/dicom/header.js';
import { readImageInfo } from '../../src/dicom/image-info.js';
import { renderFrame } from '../../src/dicom/render.js';
import { datasetSource, scanDicom } from '../../src/dicom/scan.js';
import { findTransferSyntax } from '../../src/dicom/transfer-syntax.js';
import { AppError, InconsistentImageError, InvalidPixelDataError, NoPixelDataError } from '../../src/errors.js';
import { corpusOrSkip, type ManifestEntry } from '../helpers/corpus.js';
import { ALLOWED_BELOW, IDENTICAL_FRAMES } from '../helpers/known-render-differences.js';
import { decodePng, psnr } from '../helpers/psnr.js';

const corpus = corpusOrSkip('render');
const MIN_PSNR_DB = 40;

/** Files whose image attributes contradict their pixel data: rendering must fail cleanly. */
const INCONSISTENT = ['dwv/data/dwv-test_no-number-rows.dcm', 'orthanc-tests/2026-05-26-oob-monochrome-65535.dcm'];

const transferSyntaxName = (entry: ManifestEntry): string =>
  entry.transferSyntaxUID === null ? 'no file meta (native)' : (findTransferSyntax(entry.transferSyntaxUID)?.name ?? entry.transferSyntaxUID);

function open(entry: ManifestEntry) {
  const source = new BufferByteSource(corpus!.read(entry.path));
  const structure = scanDicom(source);
  const { dataset } = parseHeader(source, structure);
  return { dataset, structure, pixels: datasetSource(source, structure) };
}

interface Comparison {
  db: number;
  maxAbsDiff: number;
  size: [number, number];
  refSize: [number, number];
  channels: number;
}
const comparisons = new Map<string, Comparison>();

/** Frame 1 against the reference, computed once per file. */
function compare(entry: ManifestEntry): Comparison {
  let c = comparisons.get(entry.path);
  if (!c) {
    const { dataset, structure, pixels } = open(entry);
    const image = renderFrame(dataset, structure, pixels, { frame: 1 });
    const ref = decodePng(readFileSync(corpus!.file(entry.referenceRender!.png!)));
    const mine = decodePng(image.png);
    const { psnr: db, maxAbsDiff } = psnr(ref, mine);
    c = { db, maxAbsDiff, size: [image.width, image.height], refSize: [ref.width, ref.height], channels: image.channels };
    comparisons.set(entry.path, c);
  }
  return c;
}

const files = corpus?.manifest.files ?? [];
const rendered = files.filter((f) => f.referenceRender?.png && !INCONSISTENT.includes(f.path));
const unreferenced = files.filter((f) => f.hasPixelData && !f.referenceRender?.png && !INCONSISTENT.includes(f.path));
const multiFrame = files.filter((f) => f.hasPixelData && (f.numberOfFrames ?? 1) > 1 && !INCONSISTENT.includes(f.path));
const withoutPixels = files.filter((f) => !f.hasPixelData);
const compressed = rendered.filter((f) => findTransferSyntax(f.transferSyntaxUID ?? '')?.encapsulated);

/** Groups of files (by transfer syntax, by photometric interpretation) and their lowest PSNR. */
function groups(key: (f: ManifestEntry) => string): [string, ManifestEntry[]][] {
  const map = new Map<string, ManifestEntry[]>();
  for (const f of rendered) map.set(key(f), [...(map.get(key(f)) ?? []), f]);
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
}
const fmt = (db: number) => (db === Infinity ? 'inf' : db.toFixed(2));

describe.skipIf(!corpus)('corpus: every reference render is matched (frame 1, ≥ 40 dB)', () => {
  afterAll(() => {
    const lines = [...comparisons.entries()]
      .map(([path, c]) => `${fmt(c.db).padStart(7)}  ${c.maxAbsDiff.toFixed(0).padStart(3)}  ${path}${path in ALLOWED_BELOW ? '  (allowed: see README)' : ''}`)
      .sort();
    const summary = (title: string, key: (f: ManifestEntry) => string) =>
      [`min PSNR by ${title} (dB, files, allowed-below excluded):`].concat(
        groups(key).map(([name, entries]) => {
          const counted = entries.filter((e) => !(e.path in ALLOWED_BELOW) && comparisons.has(e.path));
          const min = Math.min(...counted.map((e) => comparisons.get(e.path)!.db));
          return `  ${fmt(min).padStart(7)}  ${String(entries.length).padStart(3)}  ${name}`;
        }),
      );
    if (lines.length) {
      console.log(
        [
          'PSNR of frame 1 vs reference (dB, max |diff|):',
          ...lines,
          ...summary('transfer syntax', transferSyntaxName),
          ...summary('photometric interpretation', (f) => f.photometricInterpretation ?? 'absent (MONOCHROME2 assumed)'),
        ].join('\n'),
      );
    }
  });

  it('finds every kind of file in the corpus', () => {
    expect(rendered.length).toBeGreaterThanOrEqual(95);
    expect(compressed.length).toBeGreaterThanOrEqual(55);
    expect(multiFrame.length).toBeGreaterThanOrEqual(20);
  });

  it.each(rendered.map((f) => [f.path, f] as const))('%s', (path, entry) => {
    const c = compare(entry);
    expect(c.size).toEqual(c.refSize);
    expect(c.channels).toBe(entry.referenceRender!.colorType === 'rgb' ? 3 : 1);
    if (path in ALLOWED_BELOW) expect(c.db, `${path} now matches its reference: remove it from ALLOWED_BELOW`).toBeLessThan(MIN_PSNR_DB);
    else expect(c.db).toBeGreaterThanOrEqual(MIN_PSNR_DB);
  });

  describe('each transfer syntax', () => {
    it.each(groups(transferSyntaxName))('%s', (_name, entries) => {
      const counted = entries.filter((e) => !(e.path in ALLOWED_BELOW));
      expect(counted.length).toBeGreaterThan(0);
      expect(Math.min(...counted.map((e) => compare(e).db))).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    });

    it('covers every transfer syntax the registry can decode that the corpus holds', () => {
      const decodable = new Set(rendered.map(transferSyntaxName));
      for (const name of ['RLE Lossless', 'JPEG Baseline (Process 1)', 'JPEG Extended (Process 2 & 4)', 'JPEG-LS Lossless', 'JPEG-LS Lossy (Near-Lossless)']) {
        expect(decodable).toContain(name);
      }
      expect([...decodable].filter((n) => n.startsWith('JPEG Lossless')).length).toBe(2); // .57 and .70
      expect([...decodable].filter((n) => n.startsWith('JPEG 2000')).length).toBe(2); // .90 and .91
    });
  });

  describe('each photometric interpretation', () => {
    it.each(groups((f) => f.photometricInterpretation ?? 'absent (MONOCHROME2 assumed)'))('%s', (_name, entries) => {
      const counted = entries.filter((e) => !(e.path in ALLOWED_BELOW));
      expect(counted.length).toBeGreaterThan(0);
      expect(Math.min(...counted.map((e) => compare(e).db))).toBeGreaterThanOrEqual(MIN_PSNR_DB);
    });
  });
});

describe.skipIf(!corpus)('corpus: every frame of multi-frame files renders, and frames differ', () => {
  it.each(multiFrame.map((f) => [f.path, f] as const))('%s', (path, entry) => {
    const { dataset, structure, pixels } = open(entry);
    const frames = entry.numberOfFrames!;
    const seen = new Set<string>();
    for (let frame = 1; frame <= frames; frame++) {
      const image = renderFrame(dataset, structure, pixels, { frame });
      expect([image.width, image.height]).toEqual([entry.columns, entry.rows]);
      seen.add(image.png.toString('base64'));
    }
    if (path in IDENTICAL_FRAMES) {
      const info = readImageInfo(dataset, structure);
      const codec = structure.transferSyntax.codec!;
      const hashes = Array.from({ length: frames }, (_, i) =>
        createHash('sha256').update(readEncapsulatedFrame(structure.pixelData!, pixels, info.numberOfFrames, i, codec.endsWithEoi)).digest('hex'),
      );
      expect(new Set(hashes).size).toBe(1);
      expect(seen.size).toBe(1);
    } else {
      // A frame offset bug would render frame 1 again and again.
      expect(seen.size).toBeGreaterThan(1);
    }
  });
});

describe.skipIf(!corpus)('corpus: files without a reference render', () => {
  it.each(unreferenced.map((f) => [f.path, f] as const))('%s renders frame 1', (_path, entry) => {
    const { dataset, structure, pixels } = open(entry);
    const image = renderFrame(dataset, structure, pixels, { frame: 1 });
    expect([image.width, image.height]).toEqual([entry.columns, entry.rows]);
  });
});

/** A ByteSource whose bytes [from, to) read as `fill`: corrupts a frame without copying the file. */
function corrupted(source: ByteSource, from: number, to: number, fill: number): ByteSource {
  return {
    size: source.size,
    read(offset, length) {
      const bytes = source.read(offset, length).slice();
      for (let i = Math.max(from, offset); i < Math.min(to, offset + bytes.length); i++) bytes[i - offset] = fill;
      return bytes;
    },
  };
}

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

  // One file per codec: its first fragment's codestream overwritten after the first 2 bytes (and,
  // for RLE, the header) — every codec must answer InvalidPixelDataError, and the next render works.
  const victims = ['dwv/data/nema-ct1_jpll.dcm', 'orthanc-tests/Formats/JpegLossless.dcm', 'dwv/data/nema-ct1_j2ki.dcm', 'orthanc-tests/Formats/Rle.dcm', 'fo-dicom/GH538-jpeg1.dcm'];
  it.each(victims)('%s with corrupt pixel data: InvalidPixelDataError', (path) => {
    const entry = files.find((f) => f.path === path)!;
    const { dataset, structure, pixels } = open(entry);
    const first = structure.pixelData!.fragments![0]!;
    for (const fill of [0x00, 0xff, 0x7f]) {
      const bad = corrupted(pixels, first.offset + 2, first.offset + first.length, fill);
      let error: unknown;
      try {
        renderFrame(dataset, structure, bad, { frame: 1 });
      } catch (err) {
        error = err;
      }
      // libjpeg fills a stream that ends early with gray and warns, as dcmtk does: a picture, not an error.
      if (error === undefined) continue;
      expect(error).toBeInstanceOf(AppError);
      expect(error).toBeInstanceOf(InvalidPixelDataError);
    }
    expect(compare(entry).db).toBeGreaterThanOrEqual(MIN_PSNR_DB);
  });

  it('a truncated JPEG-LS codestream fails fast (CharLS would read past its end for seconds)', () => {
    const entry = files.find((f) => f.path === 'dicomParser/encapsulated/single-frame/CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm')!;
    const { dataset, structure, pixels } = open(entry);
    const first = structure.pixelData!.fragments![0]!;
    const truncated = { ...structure, pixelData: { ...structure.pixelData!, fragments: [{ offset: first.offset, length: Math.floor(first.length / 2) }] } };
    const started = performance.now();
    expect(() => renderFrame(dataset, truncated, pixels, { frame: 1 })).toThrow(/truncated: it does not end with an EOI marker/);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
