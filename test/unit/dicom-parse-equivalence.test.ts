/**
 * The fast header parse (lazy values, one reused dcmjs stream, chunked structural walk) against a
 * frozen copy of the parser it replaced (test/helpers/reference-parser): on every corpus file, on
 * synthetic files covering every VR and the unusual encodings, and on seeded mutations of both,
 * scanDicom + parseHeader must give the same structure, the same elements (tag, VR, length,
 * decoded values, raw bytes, items; get() answers included) and the same errors, message for
 * message. The upload parse (parse-worker) must give the summary the old parse gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import type { DicomDataset } from '../../src/dicom/dataset.js';
import { parseHeader } from '../../src/dicom/header.js';
import { summarizeInstance } from '../../src/dicom/instance-summary.js';
import { scanDicom } from '../../src/dicom/scan.js';
import parse from '../../src/parse/parse-worker.js';
import { corpusOrSkip } from '../helpers/corpus.js';
import { basicElements, type BuildElement, buildDicom, DEFLATED_LE, EXPLICIT_BE, IMPLICIT_LE, JPEG_BASELINE } from '../helpers/dicom-builder.js';
import { parseHeader as referenceParseHeader } from '../helpers/reference-parser/header.js';
import { scanDicom as referenceScanDicom } from '../helpers/reference-parser/scan.js';
import { prng } from '../helpers/prng.js';

const OPTIONS = { maxInflatedBytes: 64 << 20, maxInflateRatio: 200 };
// The test file is the only reader (like FUZZ_COUNT): mutations per corpus file, more for a longer run.
const MUTATIONS = Number(process.env.PARSE_EQ_MUTATIONS ?? 12);
const SEED = Number(process.env.PARSE_EQ_SEED ?? 0x5eed);

/** Everything a caller can observe of a data set, values forced (lazy ones decode here). */
function project(ds: DicomDataset): unknown {
  return {
    elements: ds.elements.map((e) => ({
      tag: e.tag,
      vr: e.vr,
      length: e.length,
      values: [...e.values],
      bytes: e.bytes ? Buffer.from(e.bytes).toString('hex') : undefined,
      items: e.items?.map(project),
      // get() must find the element the reference finds (the last of repeated tags)
      found: ds.get(e.tag) === e,
    })),
    missing: ds.get('FFFFFFFF') === undefined,
  };
}

type Outcome = { error: string } | { structure: unknown; meta: unknown; dataset: unknown; specificCharacterSet: unknown; summary: unknown };

function outcome(bytes: Uint8Array, scan: typeof scanDicom, parseH: typeof parseHeader): Outcome {
  try {
    const source = new BufferByteSource(bytes);
    const structure = scan(source, OPTIONS);
    const h = parseH(source, structure, OPTIONS);
    return {
      structure,
      meta: project(h.meta),
      dataset: project(h.dataset),
      specificCharacterSet: h.specificCharacterSet,
      summary: summarizeInstance(h.dataset, structure.pixelData !== null),
    };
  } catch (err) {
    return { error: `${(err as Error).constructor.name}: ${(err as Error).message}` };
  }
}

function expectSameAsReference(bytes: Uint8Array, label: string): Outcome {
  const fast = outcome(bytes, scanDicom, parseHeader);
  const reference = outcome(bytes, referenceScanDicom as typeof scanDicom, referenceParseHeader as unknown as typeof parseHeader);
  expect(fast, label).toEqual(reference);
  return fast;
}


/** Seeded damage to the first `span` bytes (where the header is): flips, length overwrites, truncation, splices. */
function mutate(file: Uint8Array, span: number, random: () => number): { bytes: Uint8Array; how: string } {
  const b = new Uint8Array(file);
  const at = () => Math.floor(random() * Math.min(span, b.length));
  const kind = Math.floor(random() * 5);
  if (kind === 0) {
    const n = 1 + Math.floor(random() * 4);
    const where: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = at();
      b[p]! ^= 1 << Math.floor(random() * 8);
      where.push(p);
    }
    return { bytes: b, how: `bit flips at ${where.join(',')}` };
  }
  if (kind === 1) {
    const p = at();
    const v = [0, 1, 3, 0xff, 0xfffe, 0xffff, Math.floor(random() * 0x10000)][Math.floor(random() * 7)]!;
    b[p] = v & 0xff;
    if (p + 1 < b.length) b[p + 1] = v >>> 8;
    return { bytes: b, how: `u16 ${v} at ${p}` };
  }
  if (kind === 2) {
    const p = at();
    return { bytes: b.subarray(0, p), how: `truncated at ${p}` };
  }
  if (kind === 3) {
    const p = at() & ~1;
    const vr = ['UN', 'SQ', 'OB', 'US', 'AT', 'PN', 'DS', 'UI', 'XX'][Math.floor(random() * 9)]!;
    if (p + 1 < b.length) {
      b[p] = vr.charCodeAt(0);
      b[p + 1] = vr.charCodeAt(1);
    }
    return { bytes: b, how: `"${vr}" at ${p}` };
  }
  const from = at();
  const to = at();
  const len = Math.floor(random() * 64);
  b.copyWithin(to, from, from + len);
  return { bytes: b, how: `copied ${len} bytes from ${from} to ${to}` };
}

const LATIN1 = (s: string) => Buffer.from(s, 'latin1');

/** Synthetic files: every VR, odd paddings, charsets in items, CP-246 UN sequences, ambiguous US/SS. */
function syntheticFiles(): { name: string; bytes: Buffer }[] {
  const everyVr: BuildElement[] = [
    { tag: '00080005', vr: 'CS', value: 'ISO_IR 100' },
    { tag: '00080008', vr: 'CS', value: 'ORIGINAL\\PRIMARY\\\\AXIAL' },
    { tag: '00080020', vr: 'DA', value: '20240102' },
    { tag: '00080030', vr: 'TM', value: ' 101010.5 ' },
    { tag: '00080050', vr: 'SH', value: '  ACC 1 ' },
    { tag: '00080054', vr: 'AE', value: ' STORESCP ' },
    { tag: '0008002A', vr: 'DT', value: '20240102101010' },
    { tag: '00081030', vr: 'LO', value: LATIN1('Étude  ') },
    { tag: '00081190', vr: 'UR', value: 'http://example.org/a b ' },
    { tag: '00100010', vr: 'PN', value: LATIN1('Müller^Jürgen==') },
    { tag: '00101010', vr: 'AS', value: '042Y' },
    { tag: '00104000', vr: 'LT', value: '  line one\r\nline two  ' },
    { tag: '00181030', vr: 'LO', value: 'A\\B\\' },
    { tag: '00200011', vr: 'IS', value: ' 12 ' },
    { tag: '00200032', vr: 'DS', value: '-125.5\\-130\\ 72.5e0 \\x' },
    { tag: '00201041', vr: 'DS', value: '' },
    { tag: '00209161', vr: 'UI', value: '1.2. 3\0' },
    { tag: '00280010', vr: 'US', value: [512] },
    { tag: '00280106', vr: 'SS', value: [-2] },
    { tag: '00281052', vr: 'DS', value: '-1024 ' },
    { tag: '00209165', vr: 'AT', value: [0x00100020, 0x7fe00010] },
    { tag: '00189219', vr: 'FL', value: [1.5, -2.25] },
    { tag: '00189220', vr: 'FD', value: [Math.PI] },
    { tag: '00181310', vr: 'US', value: [0, 512, 512, 0] },
    { tag: '00460044', vr: 'SL', value: [-7] },
    { tag: '00460045', vr: 'UL', value: [7, 0xffffffff] },
    { tag: '00660040', vr: 'OL', value: Uint8Array.from([1, 2, 3, 4]) },
    { tag: '00720073', vr: 'SV', value: [-(2n ** 60n), 5n] },
    { tag: '00720074', vr: 'UV', value: [2n ** 63n, 3n] },
    { tag: '00400254', vr: 'UC', value: '  leading kept  ' },
    { tag: '00321060', vr: 'ST', value: 'short text  ' },
    { tag: '00321070', vr: 'UT', value: 'unlimited\\not split  ' },
    { tag: '00091010', vr: 'UN', value: Uint8Array.from([9, 8, 7]) },
    { tag: '00290010', vr: 'LO', value: 'ACME 1.0' },
    {
      tag: '00081111',
      vr: 'SQ',
      items: [
        [
          { tag: '00080005', vr: 'CS', value: 'ISO_IR 192' },
          { tag: '00100010', vr: 'PN', value: Buffer.from('Gauß^Anaïs', 'utf8') },
        ],
        [{ tag: '00100010', vr: 'PN', value: LATIN1('Müller') }],
      ],
      undefinedLength: true,
      itemUndefinedLength: true,
    },
  ];
  const sorted = [...everyVr].sort((a, b) => (String(a.tag) < String(b.tag) ? -1 : 1));
  const signed: BuildElement[] = basicElements([
    { tag: '00280103', vr: 'US', value: [1] },
    { tag: '00280106', vr: 'US', value: [0xfffe] },
    { tag: '00280107', vr: 'US', value: [100] },
    { tag: '00283002', vr: 'US', value: [0xffff, 0xfff0, 16] },
  ]);
  const unSequence: BuildElement[] = basicElements([{ tag: '00082112', vr: 'UN', items: [[{ tag: '00081150', vr: 'UI', value: '1.2.3' }]], undefinedLength: true }]);
  return [
    { name: 'every VR, explicit LE', bytes: buildDicom({ elements: sorted, pixelData: { native: new Uint8Array(16) } }) },
    { name: 'every VR, explicit BE', bytes: buildDicom({ transferSyntax: EXPLICIT_BE, elements: sorted }) },
    { name: 'every VR, deflated', bytes: buildDicom({ transferSyntax: DEFLATED_LE, elements: sorted }) },
    { name: 'every VR, implicit LE', bytes: buildDicom({ transferSyntax: IMPLICIT_LE, elements: sorted.filter((e) => !['00091010', '00660040', '00720073', '00720074'].includes(String(e.tag))) }) },
    { name: 'implicit, signed pixels', bytes: buildDicom({ transferSyntax: IMPLICIT_LE, elements: signed }) },
    { name: 'UN sequence (CP-246)', bytes: buildDicom({ elements: unSequence }) },
    { name: 'encapsulated', bytes: buildDicom({ transferSyntax: JPEG_BASELINE, elements: basicElements(), pixelData: { fragments: [Uint8Array.from([1, 2, 3, 4])] } }) },
    { name: 'no meta, implicit', bytes: buildDicom({ meta: false, transferSyntax: IMPLICIT_LE, elements: signed }) },
    { name: 'large binary value (header copy let go)', bytes: buildDicom({ elements: [...sorted, { tag: '00420011', vr: 'OB', value: new Uint8Array(100_000).fill(7) }].sort((a, b) => (String(a.tag) < String(b.tag) ? -1 : 1)) }) },
    { name: 'text value over 1 MiB (decoded at once)', bytes: buildDicom({ elements: basicElements([{ tag: '00204000', vr: 'UT', value: 'x\\y '.repeat(300_000) }]) }) },
    { name: 'ISO 2022 Japanese', bytes: buildDicom({ elements: basicElements([{ tag: '00080005', vr: 'CS', value: '\\ISO 2022 IR 87' }, { tag: '00100010', vr: 'PN', value: Buffer.from('1b24423b33454411b2842', 'hex') }]) }) },
  ];
}

describe('fast parse = reference parse: synthetic files and their mutations', () => {
  for (const { name, bytes } of syntheticFiles()) {
    it(name, () => {
      const result = expectSameAsReference(bytes, name);
      expect(result).not.toHaveProperty('error'); // the base file itself must parse
      const random = prng(0xc0ffee ^ bytes.length);
      for (let i = 0, n = bytes.length > 50_000 ? 20 : 150; i < n; i++) {
        const { bytes: m, how } = mutate(bytes, bytes.length, random);
        expectSameAsReference(m, `${name} #${i}: ${how}`);
      }
    });
  }
});

const corpus = corpusOrSkip('dicom-parse-equivalence');

describe.skipIf(!corpus)('fast parse = reference parse: every corpus file', () => {
  const files = corpus?.manifest.files ?? [];
  it('covers the corpus', () => expect(files.length).toBeGreaterThan(100));

  it.each(files.map((f) => [f.path]))('%s', (path) => {
    const bytes = corpus!.read(path);
    expectSameAsReference(bytes, path);
  });

  it('seeded header mutations of every corpus file fail or succeed alike, with the same errors', () => {
    const random = prng(SEED);
    for (const f of files) {
      const bytes = corpus!.read(f.path);
      const headerEnd = referenceScanDicom(new BufferByteSource(bytes)).headerEnd;
      for (let i = 0; i < MUTATIONS; i++) {
        const { bytes: m, how } = mutate(bytes, Math.min(headerEnd + 16, bytes.length), random);
        expectSameAsReference(m, `${f.path}: ${how}`);
      }
    }
  });
});

describe.skipIf(!corpus)('the upload parse (parse worker) gives the old parse result', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parse-eq-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each((corpus?.manifest.files ?? []).map((f) => [f.path]))('%s', (path) => {
    const bytes = corpus!.read(path);
    const file = join(dir, 'upload.dcm');
    writeFileSync(file, bytes);
    const result = parse({ path: file, ...OPTIONS, taskId: 0 });
    const ref = outcome(bytes, referenceScanDicom as typeof scanDicom, referenceParseHeader as unknown as typeof parseHeader);
    if ('error' in ref) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(`InvalidDicomError: ${'archive' in result ? 'a ZIP archive' : result.message}`).toBe(ref.error);
    } else {
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.parsed.summary).toEqual(ref.summary);
    }
  });
});

/** White-box: the private state of the lazy elements (header.ts LazyElement). */
interface LazyState {
  decoded?: unknown;
  source?: Uint8Array;
}
const lazy = (e: unknown) => e as LazyState;

describe('lazy values: when they are decoded and what they keep', () => {
  const ordinary = buildDicom({ elements: basicElements([{ tag: '00081030', vr: 'LO', value: 'STUDY' }]), pixelData: { native: new Uint8Array(8) } });

  it('decodes a value on first access only, then lets go of the header copy', () => {
    const h = parseHeader(new BufferByteSource(ordinary));
    const e = h.dataset.get('00081030')!;
    expect(lazy(e).decoded).toBeUndefined();
    expect(lazy(e).source).toBeInstanceOf(Uint8Array);
    expect(e.values).toEqual(['STUDY']);
    expect(lazy(e).decoded).toEqual(['STUDY']);
    expect(lazy(e).source).toBeUndefined();
    expect(e.values).toBe(e.values); // decoded once
  });

  it('decodes the value with the character set in effect at the element, not at access time', () => {
    const file = buildDicom({
      elements: basicElements([
        { tag: '00080005', vr: 'CS', value: 'ISO_IR 100' },
        { tag: '00081111', vr: 'SQ', items: [[{ tag: '00080005', vr: 'CS', value: 'ISO_IR 192' }, { tag: '00100010', vr: 'PN', value: Buffer.from('Gauß', 'utf8') }]] },
        { tag: '00081030', vr: 'LO', value: LATIN1('Étude') },
      ]),
    });
    const h = parseHeader(new BufferByteSource(file));
    // read the item's value after the top-level one: each keeps its own decoder
    expect(h.dataset.get('00081030')!.values).toEqual(['Étude']);
    expect(h.dataset.get('00081111')!.items![0]!.get('00100010')!.values).toEqual([{ Alphabetic: 'Gauß' }]);
  });

  it('does not see later changes to the bytes it was parsed from', () => {
    const bytes = Buffer.from(ordinary);
    const h = parseHeader(new BufferByteSource(bytes));
    bytes.fill(0x41, 132); // overwrite everything after the preamble
    expect(h.dataset.get('00081030')!.values).toEqual(['STUDY']);
  });

  it('decodes every value at once when elements hold over 64 KiB apart from the header copy', () => {
    const file = buildDicom({ elements: basicElements([{ tag: '00420011', vr: 'OB', value: new Uint8Array(70_000) }]) });
    const h = parseHeader(new BufferByteSource(file));
    const texts = h.dataset.elements.filter((e) => e.vr !== 'OB');
    expect(texts.length).toBeGreaterThan(3);
    for (const e of texts) expect(lazy(e).source, e.tag).toBeUndefined();
    // below the threshold they stay lazy
    const small = parseHeader(new BufferByteSource(buildDicom({ elements: basicElements([{ tag: '00420011', vr: 'OB', value: new Uint8Array(60_000) }]) })));
    expect(lazy(small.dataset.get('00100020')).decoded).toBeUndefined();
  });

  it('decodes a text value over 1 MiB during the parse (a decode failure must reject the file there)', () => {
    const h = parseHeader(new BufferByteSource(buildDicom({ elements: basicElements([{ tag: '00204000', vr: 'UT', value: 'a'.repeat(1_100_000) }]) })));
    const e = h.dataset.get('00204000')!;
    expect(Object.getOwnPropertyDescriptor(e, 'values')?.value).toHaveLength(1); // a plain, already decoded element
    // its decoded text is held apart from the header copy too: the others are decoded and let go of it
    expect(lazy(h.dataset.get('00100020')).source).toBeUndefined();
  });
});
