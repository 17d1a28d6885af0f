import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BufferByteSource, type ByteSource } from '../../src/dicom/byte-source.js';
import { DEFAULT_MAX_INFLATED_BYTES, datasetSource, scanDicom } from '../../src/dicom/scan.js';
import { InvalidDicomError } from '../../src/errors.js';
import {
  type BuildElement,
  type BuildOptions,
  DEFLATED_LE,
  EXPLICIT_BE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  JPEG_BASELINE,
  basicElements,
  buildDicom,
} from '../helpers/dicom-builder.js';

const src = (b: Uint8Array) => new BufferByteSource(b);
const scan = (b: Uint8Array, options?: Parameters<typeof scanDicom>[1]) => scanDicom(src(b), options);

function rejects(b: Uint8Array, pattern?: RegExp, options?: Parameters<typeof scanDicom>[1]): InvalidDicomError {
  let caught: unknown;
  try {
    scan(b, options);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected rejection of ${b.length} bytes`).toBeInstanceOf(InvalidDicomError);
  if (pattern) expect((caught as Error).message).toMatch(pattern);
  return caught as InvalidDicomError;
}

const PIXELS = Uint8Array.from({ length: 32 }, (_, i) => i);

/** A sequence with one item of each length kind, nested one level. */
const SEQUENCES: BuildElement[] = [
  {
    tag: '00081115',
    vr: 'SQ',
    undefinedLength: true,
    itemUndefinedLength: true,
    items: [
      [
        { tag: '00081150', vr: 'UI', value: '1.2.3' },
        { tag: '0008114A', vr: 'SQ', items: [[{ tag: '00081155', vr: 'UI', value: '1.2.3.4' }], []] },
      ],
    ],
  },
  { tag: '00082112', vr: 'SQ', items: [[{ tag: '00081150', vr: 'UI', value: '1.2' }]] },
];

describe('scanDicom: encodings', () => {
  it.each([
    ['implicit VR LE', IMPLICIT_LE],
    ['explicit VR LE', EXPLICIT_LE],
    ['explicit VR BE', EXPLICIT_BE],
    ['deflated explicit VR LE', DEFLATED_LE],
  ])('%s with preamble and meta', (_, ts) => {
    const file = buildDicom({ transferSyntax: ts, elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } });
    const s = scan(file);
    expect(s.hasPreamble).toBe(true);
    expect(s.hasFileMeta).toBe(true);
    expect(s.declaredTransferSyntaxUid).toBe(ts);
    expect(s.transferSyntax.uid).toBe(ts);
    expect(s.pixelData).toMatchObject({ vr: 'OW', length: PIXELS.length });
    const space = datasetSource(src(file), s);
    expect(Buffer.from(space.read(s.pixelData!.valueOffset, PIXELS.length))).toEqual(Buffer.from(PIXELS));
    if (ts === DEFLATED_LE) {
      expect(s.headerEnd).toBe(file.length);
    } else {
      // the pixel data tag starts at headerEnd
      const tag = file.subarray(s.headerEnd, s.headerEnd + 4);
      expect([...tag]).toEqual(ts === EXPLICIT_BE ? [0x7f, 0xe0, 0x00, 0x10] : [0xe0, 0x7f, 0x10, 0x00]);
    }
  });

  it('reads a file without preamble (meta at offset 0)', () => {
    const file = buildDicom({ preamble: false, elements: basicElements() });
    const s = scan(file);
    expect(s).toMatchObject({ hasPreamble: false, hasFileMeta: true, declaredTransferSyntaxUid: EXPLICIT_LE, pixelData: null });
    expect(s.headerEnd).toBe(file.length);
    expect(file.readUInt16LE(s.datasetOffset)).toBe(0x0008);
  });

  it.each([
    ['implicit VR LE', IMPLICIT_LE],
    ['explicit VR LE', EXPLICIT_LE],
    ['explicit VR BE', EXPLICIT_BE],
  ])('detects a bare data set in %s', (_, ts) => {
    const file = buildDicom({ transferSyntax: ts, meta: false, elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } });
    const s = scan(file);
    expect(s).toMatchObject({ hasPreamble: false, hasFileMeta: false, declaredTransferSyntaxUid: null, datasetOffset: 0 });
    expect(s.transferSyntax.uid).toBe(ts);
    expect(s.pixelData?.length).toBe(PIXELS.length);
  });

  it('reads preamble + "DICM" followed directly by a data set', () => {
    const bare = buildDicom({ meta: false, elements: basicElements() });
    const file = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), bare]);
    expect(scan(file)).toMatchObject({ hasPreamble: true, hasFileMeta: false, datasetOffset: 132 });
  });

  it('is not fooled by "DICM" at offset 128 of a bare data set', () => {
    // a long LO whose value puts "DICM" at offset 128 (like dcm4che's no_preamble_dicm_in_data)
    const value = `${'X'.repeat(128 - 10 - 8)}DICM${'Y'.repeat(20)}`;
    const file = buildDicom({
      meta: false,
      elements: [
        { tag: '00080060', vr: 'CS', value: 'MG' },
        { tag: '00080070', vr: 'LO', value },
      ],
    });
    expect(file.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(scan(file)).toMatchObject({ hasPreamble: false, hasFileMeta: false, datasetOffset: 0 });
  });

  it('ignores a wrong file meta group length', () => {
    for (const groupLength of [0, 10, 1000, 0xffffff]) {
      const s = scan(buildDicom({ meta: { groupLength }, elements: basicElements() }));
      expect(s.declaredTransferSyntaxUid).toBe(EXPLICIT_LE);
    }
  });

  it('reads an unknown transfer syntax as explicit VR LE (PS3.5 §10)', () => {
    const s = scan(buildDicom({ meta: { transferSyntaxUid: '1.2.3.4.5.6' }, elements: basicElements() }));
    expect(s.transferSyntax).toMatchObject({ explicitVr: true, littleEndian: true, uid: '1.2.3.4.5.6' });
  });

  it('detects the encoding when the meta has no transfer syntax', () => {
    const s = scan(buildDicom({ transferSyntax: IMPLICIT_LE, meta: { transferSyntaxUid: null }, elements: basicElements() }));
    expect(s).toMatchObject({ hasFileMeta: true, declaredTransferSyntaxUid: null });
    expect(s.transferSyntax.uid).toBe(IMPLICIT_LE);
  });
});

describe('scanDicom: structure', () => {
  it('walks sequences written as UN with undefined length (CP-246)', () => {
    const file = buildDicom({
      elements: basicElements([
        { tag: '00540016', vr: 'UN', undefinedLength: true, items: [[{ tag: '00181072', vr: 'TM', value: '120000' }]] },
      ]),
    });
    expect(scan(file).pixelData).toBeNull();
  });

  it('locates encapsulated pixel data: offset table and fragments', () => {
    const fragments = [Uint8Array.from([1, 2, 3, 4]), Uint8Array.from([5, 6, 7]), Uint8Array.from([9, 9])];
    const file = buildDicom({
      transferSyntax: JPEG_BASELINE,
      elements: basicElements(),
      pixelData: { fragments, offsetTable: [0, 12] },
    });
    const s = scan(file);
    const px = s.pixelData!;
    expect(px).toMatchObject({ vr: 'OB', length: null, offsetTable: [0, 12] });
    expect(px.fragments!.map((f) => f.length)).toEqual([4, 4, 2]); // odd fragments padded to even
    const space = datasetSource(src(file), s);
    expect([...space.read(px.fragments![1]!.offset, 3)]).toEqual([5, 6, 7]);
    expect(s.transferSyntax.encapsulated).toBe(true);
  });

  it('treats Pixel Data of undefined length as encapsulated whatever its VR (UN after a CP-246 conversion)', () => {
    const file = buildDicom({ transferSyntax: JPEG_BASELINE, elements: basicElements(), pixelData: { fragments: [PIXELS] } });
    const at = file.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42]));
    file.write('UN', at + 4, 'latin1');
    expect(scan(file).pixelData).toMatchObject({ vr: 'UN', length: null, fragments: [{ length: PIXELS.length }] });
  });

  it('accepts an empty offset table', () => {
    const s = scan(buildDicom({ transferSyntax: JPEG_BASELINE, elements: basicElements(), pixelData: { fragments: [PIXELS] } }));
    expect(s.pixelData?.offsetTable).toEqual([]);
    expect(s.pixelData?.fragments).toHaveLength(1);
  });

  it('finds pixel data only at top level (an icon inside a sequence is not it)', () => {
    const file = buildDicom({
      elements: basicElements([{ tag: '00880200', vr: 'SQ', items: [[{ tag: '7FE00010', vr: 'OB', value: PIXELS }]] }]),
    });
    expect(scan(file).pixelData).toBeNull();
  });

  it('tolerates odd lengths, elements out of order and trailing padding', () => {
    const file = buildDicom({
      elements: [
        { tag: '00100020', vr: 'LO', value: 'B' },
        { tag: '00080060', vr: 'CS', value: 'CTX', noPadding: true },
        { tag: '00080070', vr: 'LO', value: 'Odd', noPadding: true },
      ],
      pixelData: { native: PIXELS },
      trailing: [{ tag: 'FFFCFFFC', vr: 'OB', value: new Uint8Array(8) }],
    });
    expect(scan(file).pixelData?.length).toBe(PIXELS.length);
  });

  it('tolerates an item whose sequence header is missing, and checks its content', () => {
    // (FFFE,E000) length 10 holding (0008,0060) CS "CT", as in fo-dicom GH364
    const stray = Buffer.from('feff00e00a00000008006000435302004354', 'hex');
    const file = buildDicom({ elements: basicElements() });
    expect(scan(Buffer.concat([file, stray])).pixelData).toBeNull();
    const broken = Buffer.from(stray);
    broken.write('??', 12, 'latin1');
    rejects(Buffer.concat([file, broken]), /invalid VR/);
  });

  it('reads only element headers of a 1 GiB file', () => {
    const head = buildDicom({ elements: basicElements() });
    const pxHeader = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0, 0, 0, 0, 0, 0]);
    const GiB = 1024 * 1024 * 1024;
    pxHeader.writeUInt32LE(GiB, 8);
    const prefix = Buffer.concat([head, pxHeader]);
    let bytesRead = 0;
    const huge: ByteSource = {
      size: prefix.length + GiB,
      read(offset, length) {
        const end = Math.min(this.size, offset + length);
        bytesRead += Math.max(0, end - offset);
        if (end <= prefix.length) return prefix.subarray(offset, end);
        throw new Error(`read inside the pixel data at ${offset}`);
      },
    };
    const s = scanDicom(huge);
    expect(s.pixelData).toMatchObject({ vr: 'OW', length: GiB });
    expect(bytesRead).toBeLessThan(4096);
  });
});

describe('scanDicom: rejects what is not DICOM', () => {
  it.each([
    ['empty', Buffer.alloc(0), /empty/],
    ['text', Buffer.from('Hello, this is certainly not a DICOM file.\n'.repeat(10)), /not a DICOM file/],
    ['JSON', Buffer.from(JSON.stringify({ 'this is': 'json', n: [1, 2, 3] })), /not a DICOM file/],
    ['PNG header', Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'), /not a DICOM file/],
    ['8 zero bytes', Buffer.alloc(8), /not a DICOM file/],
    ['4 KiB of zeros', Buffer.alloc(4096), /not a DICOM file/],
    ['preamble and DICM only', Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]), /not a DICOM file/],
  ])('%s', (_, bytes, pattern) => {
    rejects(bytes, pattern);
  });

  it('random bytes (seeded)', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let n = 0; n < 50; n++) {
      const bytes = Uint8Array.from({ length: 64 + n * 37 }, next);
      rejects(bytes);
    }
  });

  it('meta without a data set', () => {
    const file = buildDicom({ elements: [] });
    rejects(file, /not followed by a data set/);
  });

  it('an invalid VR in explicit VR', () => {
    const file = buildDicom({ elements: basicElements() });
    const at = file.indexOf(Buffer.from('PN', 'latin1'), 140);
    file.write('Q?', at, 'latin1');
    rejects(file, /invalid VR "Q\?"/);
  });

  it('undefined length on a VR that cannot have it', () => {
    rejects(buildDicom({ elements: [{ tag: '00100010', vr: 'UT', value: 'x', undefinedLength: true }] }), /undefined length but VR UT/);
  });

  it('an item running past its defined-length sequence', () => {
    const file = buildDicom({ elements: [{ tag: '00082112', vr: 'SQ', items: [[{ tag: '00081150', vr: 'UI', value: '1.2' }]] }] });
    // shrink the sequence length by 2: its item now overruns it
    const sqLengthAt = file.indexOf(Buffer.from([0x08, 0x00, 0x12, 0x21, 0x53, 0x51])) + 8;
    file.writeUInt32LE(file.readUInt32LE(sqLengthAt) - 2, sqLengthAt);
    rejects(file, /enclosing item or sequence|past/);
  });
});

describe('scanDicom: truncation', () => {
  const cases: [string, BuildOptions][] = [
    ['explicit LE, sequences, native pixel data', { elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } }],
    ['implicit LE, sequences', { transferSyntax: IMPLICIT_LE, elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } }],
    ['explicit BE', { transferSyntax: EXPLICIT_BE, elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } }],
    [
      'encapsulated',
      { transferSyntax: JPEG_BASELINE, elements: basicElements(SEQUENCES), pixelData: { fragments: [PIXELS, PIXELS], offsetTable: [0, 40] } },
    ],
    ['no preamble', { preamble: false, elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } }],
    ['bare data set', { meta: false, transferSyntax: IMPLICIT_LE, elements: basicElements(SEQUENCES), pixelData: { native: PIXELS } }],
  ];

  it.each(cases)('%s: every cut inside an element is rejected; cuts between top-level elements leave a valid shorter file', (_, options) => {
    const file = buildDicom(options);
    scan(file); // the whole file is valid
    // top-level boundaries: the sizes of the same file with fewer elements
    const elements = options.elements ?? [];
    const boundaries = new Set<number>();
    for (let k = 1; k <= elements.length; k++) boundaries.add(buildDicom({ ...options, elements: elements.slice(0, k), pixelData: undefined }).length);
    let rejected = 0;
    for (let cut = 0; cut < file.length; cut++) {
      const part = file.subarray(0, cut);
      if (boundaries.has(cut)) {
        expect(() => scan(part), `cut at ${cut}`).not.toThrow();
        continue;
      }
      let err: unknown;
      try {
        scan(part);
      } catch (e) {
        err = e;
      }
      expect(err, `cut at ${cut} of ${file.length} must be rejected`).toBeInstanceOf(InvalidDicomError);
      rejected++;
    }
    expect(rejected).toBeGreaterThan(file.length - boundaries.size - 1);
  });

  it('says what was truncated and where', () => {
    const file = buildDicom({ elements: basicElements([{ tag: '00204000', vr: 'LT', value: 'x'.repeat(24) }]) });
    const err = rejects(file.subarray(0, file.length - 14));
    expect(err.message).toMatch(/^truncated: element \(0020,4000\) at offset \d+ declares 24 bytes but the file ends after 10$/);
  });

  it('reports a missing sequence delimiter and missing fragment delimiter', () => {
    const sq = buildDicom({ elements: [{ tag: '00081115', vr: 'SQ', undefinedLength: true, items: [[]] }] });
    rejects(sq.subarray(0, sq.length - 8), /has no sequence delimiter/);
    const px = buildDicom({ transferSyntax: JPEG_BASELINE, elements: basicElements(), pixelData: { fragments: [PIXELS] } });
    rejects(px.subarray(0, px.length - 8), /encapsulated pixel data .* has no sequence delimiter/);
  });

  it('rejects a native pixel data element one byte short (but not short pixel data with a consistent length)', () => {
    const file = buildDicom({ elements: basicElements(), pixelData: { native: PIXELS } });
    rejects(file.subarray(0, file.length - 1), /truncated: element \(7FE0,0010\)/);
  });
});

describe('scanDicom: limits', () => {
  /** n nested sequences of undefined length, built iteratively (explicit VR LE). */
  function nested(n: number): Buffer {
    const open = Buffer.from('0800151153510000ffffffff' + 'feff00e0ffffffff', 'hex');
    const close = Buffer.from('feff0de000000000' + 'feffdde000000000', 'hex');
    const body = Buffer.concat([Buffer.alloc(n * open.length, open), Buffer.alloc(n * close.length, close)]);
    const head = buildDicom({ elements: [{ tag: '00080060', vr: 'CS', value: 'OT' }] });
    return Buffer.concat([head, body]);
  }

  it('accepts nesting up to maxDepth and rejects one more', () => {
    expect(() => scan(nested(64))).not.toThrow();
    rejects(nested(65), /nested deeper than 64 levels/);
    expect(() => scan(nested(5), { maxDepth: 5 })).not.toThrow();
    rejects(nested(6), /nested deeper than 5/, { maxDepth: 5 });
  });

  it('rejects 10^4 nested sequences quickly', () => {
    const file = nested(10_000);
    const t0 = performance.now();
    rejects(file, /nested deeper than 64 levels/);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('caps the inflated size of a deflated data set (deflate bomb)', () => {
    const bomb = buildDicom({
      transferSyntax: DEFLATED_LE,
      elements: [{ tag: '00080060', vr: 'CS', value: 'OT' }, { tag: '00091010', vr: 'OB', value: new Uint8Array(8 * 1024 * 1024) }],
    });
    expect(bomb.length).toBeLessThan(64 * 1024);
    rejects(bomb, /deflated data set inflates beyond 1048576 bytes/, { maxInflatedBytes: 1024 * 1024 });
    expect(scan(bomb).transferSyntax.deflated).toBe(true); // under the default cap
    expect(DEFAULT_MAX_INFLATED_BYTES).toBe(512 * 1024 * 1024);
  });

  it('rejects a corrupt or cut deflate stream', () => {
    const file = buildDicom({ transferSyntax: DEFLATED_LE, elements: basicElements(SEQUENCES) });
    rejects(file.subarray(0, file.length - 5));
    const s = scan(file);
    const garbage = Buffer.concat([file.subarray(0, s.datasetOffset), Buffer.from('this is not deflate data at all')]);
    rejects(garbage);
  });

  it('accepts a deflated data set wrongly written with a zlib header', () => {
    const plain = buildDicom({ transferSyntax: DEFLATED_LE, elements: basicElements() });
    const s = scan(plain);
    const inflated = Buffer.from(datasetSource(src(plain), s).read(0, 1 << 20));
    const zlibbed = Buffer.concat([plain.subarray(0, s.datasetOffset), deflateSync(inflated)]);
    expect(scan(zlibbed).transferSyntax.deflated).toBe(true);
  });
});
