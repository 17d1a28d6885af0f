/**
 * The parsing layer against the shared corpus (117 real files, values from dcmtk/pydicom): every
 * file scans and parses; the 14 manifest attributes and the non-ASCII text attributes match the
 * oracle under the manifest's comparison rules; structure fields match; truncated copies are
 * rejected. Known differences are an explicit allow-list, so any new mismatch fails.
 */
import { inflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { type DicomHeader, parseHeader } from '../../src/dicom/header.js';
import { type DicomStructure, scanDicom } from '../../src/dicom/scan.js';
import { jsonValue } from '../../src/dicom/value.js';
import { InvalidDicomError } from '../../src/errors.js';
import { type ManifestElement, type ManifestEntry, corpusOrSkip } from '../helpers/corpus.js';
import { comparable, UNCOMPRESSED_TRANSFER_SYNTAXES as SUPPORTED_UNCOMPRESSED } from '../helpers/oracle.js';

const corpus = corpusOrSkip('attributes');

/**
 * "path|field" → why our value differs from the manifest. Fields are attribute tags
 * ("GGGGEEEE") or structure fields (hasPreamble, hasFileMeta, transferSyntaxUID, hasPixelData).
 */
const KNOWN_MISMATCHES: Record<string, string> = {
  // The file has no preamble: its data set happens to hold "DICM" at offset 128. The manifest's
  // hasPreamble records those 4 bytes (its own note says they fool readers); we report the truth.
  'dcm4che/no_preamble_dicm_in_data|hasPreamble': 'DICM at 128 is data, not a preamble',
  // dcmdump cannot parse this file (a sequence header is missing before a stray item), so the
  // manifest's hasFileMeta is false; the file does have a group 0002 with (0002,0010) JPEG-LS,
  // which the manifest itself reports as transferSyntaxUID (taken from pydicom).
  'fo-dicom/GH364.dcm|hasFileMeta': 'file meta present; the oracle could not read the file',
};

interface Outcome {
  pairs: number;
  matched: number;
  mismatches: string[];
}
const all: Outcome = { pairs: 0, matched: 0, mismatches: [] };
const uncompressed: Outcome = { pairs: 0, matched: 0, mismatches: [] };
/** (file, tag) pairs only: the 14 manifest tags and the non-ASCII attributes. */
const attributePairs: Outcome = { pairs: 0, matched: 0, mismatches: [] };
const STRUCTURE_FIELDS = new Set(['hasPreamble', 'hasFileMeta', 'transferSyntaxUID', 'hasPixelData']);
const allowedSeen = new Set<string>();

function record(entry: ManifestEntry, field: string, ok: boolean, detail: string): void {
  const key = `${entry.path}|${field}`;
  const outcomes = SUPPORTED_UNCOMPRESSED.has(entry.transferSyntaxUID) ? [all, uncompressed] : [all];
  if (!STRUCTURE_FIELDS.has(field)) outcomes.push(attributePairs);
  for (const o of outcomes) {
    o.pairs++;
    if (ok) o.matched++;
    else o.mismatches.push(`${key}: ${detail}`);
  }
  if (!ok && key in KNOWN_MISMATCHES) allowedSeen.add(key);
}

function expectMatch(entry: ManifestEntry, field: string, ok: boolean, detail: string): void {
  record(entry, field, ok, detail);
  const key = `${entry.path}|${field}`;
  if (key in KNOWN_MISMATCHES) return;
  expect(ok, `${key}: ${detail}`).toBe(true);
}

describe.skipIf(!corpus)('corpus: scan and header of every file', () => {
  const files = corpus?.manifest.files ?? [];
  const tags = Object.keys(corpus?.manifest.attributeTags ?? {});

  it.each(files.map((f) => [f.path, f] as const))('%s', (_, entry) => {
    const bytes = corpus!.read(entry.path);
    const source = new BufferByteSource(bytes);
    const structure: DicomStructure = scanDicom(source);
    const header: DicomHeader = parseHeader(source, structure);

    expectMatch(entry, 'hasPreamble', structure.hasPreamble === entry.hasPreamble, `got ${structure.hasPreamble}`);
    expectMatch(entry, 'hasFileMeta', structure.hasFileMeta === entry.hasFileMeta, `got ${structure.hasFileMeta}`);
    expectMatch(
      entry,
      'transferSyntaxUID',
      structure.declaredTransferSyntaxUid === entry.transferSyntaxUID,
      `got ${structure.declaredTransferSyntaxUid}`,
    );
    expectMatch(entry, 'hasPixelData', (structure.pixelData !== null) === entry.hasPixelData, `got ${structure.pixelData !== null}`);
    if (structure.pixelData) {
      const px = structure.pixelData;
      if (structure.transferSyntax.encapsulated) {
        expect(px.length).toBeNull();
        expect(px.fragments!.length).toBeGreaterThan(0);
      } else {
        expect(px.length).toBeGreaterThan(0);
      }
    }

    const expected: [string, ManifestElement | null][] = [
      ...tags.map((t) => [t, entry.attributes[t] ?? null] as [string, ManifestElement | null]),
      ...Object.entries(entry.nonAsciiAttributes ?? {}),
    ];
    for (const [tag, exp] of expected) {
      const el = header.dataset.get(tag);
      const got: ManifestElement | null = el ? { vr: el.vr, Value: jsonValue(el) ?? [] } : null;
      expectMatch(entry, tag, comparable(got) === comparable(exp), `got ${comparable(got)}, expected ${comparable(exp)}`);
    }
  });

  afterAll(() => {
    if (!corpus) return;
    const rate = (o: Outcome) => `${o.matched}/${o.pairs} (${((100 * o.matched) / Math.max(1, o.pairs)).toFixed(2)}%)`;
    console.log(`[corpus] (file, tag) attribute pairs: ${rate(attributePairs)}`);
    console.log(`[corpus] attributes + structure fields: all files ${rate(all)}; uncompressed or no pixel data ${rate(uncompressed)}`);
    for (const m of all.mismatches) console.log(`[corpus]   mismatch ${m} — ${KNOWN_MISMATCHES[m.split(': ')[0]!] ?? 'NEW'}`);
  });
});

describe.skipIf(!corpus)('corpus: match rate and allow-list', () => {
  it('every allow-listed mismatch still occurs (keep the list honest)', () => {
    // runs after the per-file tests of the suite above (vitest runs describes in order)
    for (const key of Object.keys(KNOWN_MISMATCHES)) expect(allowedSeen.has(key), `${key} no longer differs: remove it`).toBe(true);
  });
  it('≥ 98% over files whose pixel data is uncompressed or absent', () => {
    expect(uncompressed.pairs).toBeGreaterThan(0);
    expect(uncompressed.matched / uncompressed.pairs).toBeGreaterThanOrEqual(0.98);
  });
});

describe.skipIf(!corpus)('corpus: truncated copies are rejected', () => {
  const files = corpus?.manifest.files ?? [];

  it.each(files.map((f) => [f.path, f] as const))('%s', (_, entry) => {
    const bytes = corpus!.read(entry.path);
    const s = scanDicom(new BufferByteSource(bytes));
    const cuts = new Map<string, number>();
    if (s.transferSyntax.deflated) {
      // some deflated files carry bytes after the deflate stream (dclunie's: an 8-byte gzip-style
      // trailer); cutting those loses no data, so cut the stream's own last byte
      const inflated = inflateRawSync(bytes.subarray(s.datasetOffset), { info: true }) as unknown as { engine: { bytesWritten: number } };
      cuts.set('last byte of the deflate stream missing', s.datasetOffset + inflated.engine.bytesWritten - 1);
    } else {
      cuts.set('1 byte short', bytes.length - 1);
    }
    if (s.hasFileMeta) cuts.set('inside meta', (s.hasPreamble ? 132 : 0) + 6);
    if (s.transferSyntax.deflated) {
      cuts.set('inside the deflated data set', s.datasetOffset + Math.floor((bytes.length - s.datasetOffset) / 2));
    } else if (s.pixelData) {
      cuts.set('inside the header (last element before pixel data)', s.headerEnd - 1);
      const px = s.pixelData;
      const start = s.datasetOffset + px.valueOffset;
      if (px.length !== null) cuts.set('inside native pixel data', start + Math.floor(px.length / 2));
      else {
        const last = px.fragments![px.fragments!.length - 1]!;
        cuts.set('inside the last fragment', s.datasetOffset + last.offset + Math.floor(last.length / 2));
        cuts.set('before the sequence delimiter', s.datasetOffset + last.offset + last.length + 4);
      }
    } else {
      cuts.set('inside the header', bytes.length - 2);
    }
    for (const [what, cut] of cuts) {
      let err: unknown;
      try {
        scanDicom(new BufferByteSource(bytes.subarray(0, cut)));
      } catch (e) {
        err = e;
      }
      expect(err, `${what} (cut at ${cut} of ${bytes.length})`).toBeInstanceOf(InvalidDicomError);
    }
  });
});
