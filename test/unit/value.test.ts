import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import type { DicomElement } from '../../src/dicom/dataset.js';
import { type DicomHeader, parseHeader } from '../../src/dicom/header.js';
import { scanDicom } from '../../src/dicom/scan.js';
import { displayText, jsonValue, valueMultiplicity } from '../../src/dicom/value.js';
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

const header = (options: BuildOptions): DicomHeader => parseHeader(new BufferByteSource(buildDicom(options)));
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** One element of every VR (PS3.5 Table 6.2-1), in tag order. */
const EVERY_VR: BuildElement[] = [
  { tag: '00080005', vr: 'CS', value: 'ISO_IR 192' },
  { tag: '00080008', vr: 'CS', value: 'ORIGINAL\\PRIMARY\\\\AXIAL' },
  { tag: '00080020', vr: 'DA', value: '20240131' },
  { tag: '00080030', vr: 'TM', value: '120000.5 ' },
  { tag: '0008002A', vr: 'DT', value: '20240131120000' },
  { tag: '00080054', vr: 'AE', value: '  STORESCP ' },
  { tag: '00080070', vr: 'LO', value: Buffer.from('  ACME\0\0') },
  { tag: '00080090', vr: 'PN', value: utf8('Doe^John=山田^太郎=やまだ^たろう') },
  { tag: '00081010', vr: 'SH', value: 'ST1 ' },
  { tag: '00081030', vr: 'LO', value: utf8('Étude\\Second') },
  { tag: '00081155', vr: 'UI', value: '1.2.840.10008.1.2\0' },
  { tag: '00082111', vr: 'ST', value: '  leading kept\\not split  ' },
  { tag: '00100010', vr: 'PN', value: 'Doe^Jane^^^' },
  { tag: '00101010', vr: 'AS', value: '045Y' },
  { tag: '00104000', vr: 'LT', value: 'a\\b\r\nc  ' },
  { tag: '00180088', vr: 'DS', value: ' 127. \\-1.5e2\\abc\\\\+.5' },
  { tag: '00181030', vr: 'LO', value: '' },
  { tag: '00200013', vr: 'IS', value: ' 42 ' },
  { tag: '0020000E', vr: 'UI', value: 'REM SAMPLES 1' },
  { tag: '00209165', vr: 'AT', value: ['00100010', '7FE00010'] },
  { tag: '00280010', vr: 'US', value: [512] },
  { tag: '00280011', vr: 'US', value: [] },
  { tag: '00280030', vr: 'DS', value: '0.5\\0.25' },
  { tag: '00280106', vr: 'SS', value: [-5, 7] },
  { tag: '00281201', vr: 'OW', value: Uint8Array.from([1, 0, 2, 0]) },
  { tag: '00287FE0', vr: 'UR', value: 'http://example.com/x ' },
  { tag: '00289099', vr: 'UL', value: [4294967295, 0] },
  { tag: '00400275', vr: 'SQ', items: [[{ tag: '00400007', vr: 'LO', value: utf8('Ärm') }], []] },
  { tag: '00409212', vr: 'FD', value: [Math.PI, -0.5] },
  { tag: '00409224', vr: 'FL', value: [1.5] },
  { tag: '00660023', vr: 'OF', value: new Uint8Array(8) },
  { tag: '00660040', vr: 'OL', value: new Uint8Array(4) },
  { tag: '00687001', vr: 'OD', value: new Uint8Array(8) },
  { tag: '0072001E', vr: 'SL', value: [-70000] },
  { tag: '00720026', vr: 'UC', value: 'one\\two ' },
  { tag: '00720028', vr: 'UT', value: 'unlimited\\text ' },
  { tag: '0072006D', vr: 'SV', value: [-5n, 9007199254740993n] },
  { tag: '00720082', vr: 'UV', value: [42n] },
  { tag: '00720094', vr: 'OV', value: new Uint8Array(8) },
  { tag: '00991010', vr: 'UN', value: Uint8Array.from([1, 2, 3, 4]) },
  { tag: '7FE00008', vr: 'OB', value: Uint8Array.from([9, 8]) },
];

function el(h: DicomHeader, tag: string): DicomElement {
  const e = h.dataset.get(tag);
  expect(e, `element ${tag}`).toBeDefined();
  return e!;
}

describe('parseHeader: value model per VR (PS3.5 §6.2)', () => {
  for (const ts of [EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE]) {
    describe(ts, () => {
      const h = header({ transferSyntax: ts, elements: EVERY_VR, pixelData: { native: new Uint8Array(4) } });
      it.each<[string, unknown[] | null]>([
        ['00080008', ['ORIGINAL', 'PRIMARY', null, 'AXIAL']],
        ['00080020', ['20240131']],
        ['00080030', ['120000.5']],
        ['00080054', ['STORESCP']],
        ['00080070', ['ACME']],
        ['00080090', [{ Alphabetic: 'Doe^John', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }]],
        ['00081010', ['ST1']],
        ['00081030', ['Étude', 'Second']],
        ['00081155', ['1.2.840.10008.1.2']],
        ['00082111', ['  leading kept\\not split']],
        ['00100010', [{ Alphabetic: 'Doe^Jane^^^' }]],
        ['00104000', ['a\\b\r\nc']],
        ['00180088', [127, -150, 'abc', null, 0.5]],
        ['00181030', []],
        ['00200013', [42]],
        ['0020000E', ['REMSAMPLES1']],
        ['00209165', ['00100010', '7FE00010']],
        ['00280010', [512]],
        ['00280011', []],
        ['00280030', [0.5, 0.25]],
        ['00280106', [-5, 7]],
        ['00281201', null],
        ['00287FE0', ['http://example.com/x']],
        ['00289099', [4294967295, 0]],
        ['00400275', null],
        ['00409212', [Math.PI, -0.5]],
        ['00409224', [1.5]],
        ['0072001E', [-70000]],
        ['00720026', ['one', 'two']],
        ['00720028', ['unlimited\\text']],
        ['0072006D', [-5, '9007199254740993']],
        ['00720082', [42]],
        ['00991010', null],
        ['7FE00008', null],
      ])('%s', (tag, expected) => {
        expect(jsonValue(el(h, tag))).toEqual(expected);
      });

      it('keeps VRs as encoded and bytes of binary VRs', () => {
        expect(EVERY_VR.filter((e) => e.vr !== 'SQ').map((e) => [e.tag, el(h, e.tag as string).vr])).toEqual(
          EVERY_VR.filter((e) => e.vr !== 'SQ').map((e) => [e.tag, e.vr]),
        );
        expect([...el(h, '00991010').bytes!]).toEqual([1, 2, 3, 4]);
        expect(el(h, '00281201').bytes).toHaveLength(4);
        expect(el(h, '00660040').bytes).toHaveLength(4);
      });

      it('reads sequences with their items and item charset', () => {
        const sq = el(h, '00400275');
        expect(sq.items).toHaveLength(2);
        expect(sq.items![0]!.get('00400007')?.values).toEqual(['Ärm']);
        expect(sq.items![1]!.elements).toEqual([]);
      });

      it('stops before Pixel Data and keeps (0008,0005) as written', () => {
        expect(h.dataset.get('7FE00010')).toBeUndefined();
        expect(h.dataset.elements.every((e) => typeof e.vr === 'string' && e.vr.length === 2)).toBe(true);
        expect(h.specificCharacterSet).toEqual(['ISO_IR 192']);
        expect(h.meta.get('00020010')?.values).toEqual([ts]);
      });
    });
  }
});

describe('parseHeader: implicit VR and unusual encodings', () => {
  it('takes VRs from the dictionary; private → UN (creator → LO); US or SS follows Pixel Representation', () => {
    const h = header({
      transferSyntax: IMPLICIT_LE,
      elements: [
        { tag: '00090010', vr: 'LO', value: 'ACME 1.0' },
        { tag: '00091001', vr: 'LO', value: 'secret' },
        { tag: '00100010', vr: 'PN', value: 'Doe^John' },
        { tag: '00280010', vr: 'US', value: [256] },
        { tag: '00280103', vr: 'US', value: [1] },
        { tag: '00280106', vr: 'US', value: [0xfffe] },
        { tag: '00283002', vr: 'US', value: [0xffff, 0, 16] },
      ],
    });
    expect(el(h, '00090010')).toMatchObject({ vr: 'LO', values: ['ACME 1.0'] });
    expect(el(h, '00091001')).toMatchObject({ vr: 'UN', values: [] });
    expect(Buffer.from(el(h, '00091001').bytes!).toString()).toBe('secret');
    expect(el(h, '00100010').vr).toBe('PN');
    expect(el(h, '00280106')).toMatchObject({ vr: 'SS', values: [-2] });
    expect(el(h, '00283002').values).toEqual([0xffff, 0, 16]); // LUT descriptors stay unsigned
  });

  it('decodes CP-246 sequences sent as UN, and UN elements of known tags', () => {
    const h = header({
      elements: [
        { tag: '00080060', vr: 'UN', value: 'PT' },
        { tag: '00280010', vr: 'UN', value: Uint8Array.from([0x80, 0x00]) },
        { tag: '00540016', vr: 'UN', undefinedLength: true, items: [[{ tag: '00181072', vr: 'TM', value: '120000' }]] },
      ],
    });
    expect(el(h, '00080060')).toMatchObject({ vr: 'CS', values: ['PT'] });
    expect(el(h, '00280010')).toMatchObject({ vr: 'US', values: [128] });
    const sq = el(h, '00540016');
    expect(sq.vr).toBe('SQ');
    expect(sq.items?.[0]?.get('00181072')?.values).toEqual(['120000']);
  });

  it('reads a defined-length UN of a known sequence tag as an implicit VR sequence, else keeps its bytes', () => {
    const h = header({
      elements: [
        { tag: '00081115', vr: 'UN', items: [[{ tag: '00081150', vr: 'UI', value: '1.2.3' }]] },
        { tag: '00082112', vr: 'UN', value: Uint8Array.from([1, 2, 3, 4, 5, 6]) },
      ],
    });
    expect(el(h, '00081115').vr).toBe('SQ');
    expect(el(h, '00081115').items?.[0]?.get('00081150')?.values).toEqual(['1.2.3']);
    expect(el(h, '00082112')).toMatchObject({ vr: 'UN', length: 6 });
  });

  it('reads a bare data set and a file without preamble', () => {
    expect(jsonValue(el(header({ meta: false, transferSyntax: IMPLICIT_LE, elements: basicElements() }), '00100020'))).toEqual(['PID-1']);
    const h = header({ preamble: false, elements: basicElements() });
    expect(h.structure.hasPreamble).toBe(false);
    expect(el(h, '00100010').values).toEqual([{ Alphabetic: 'Doe^John' }]);
  });

  it('gives a nested encapsulated element (an icon) its fragments as bytes', () => {
    const h = header({
      transferSyntax: JPEG_BASELINE,
      elements: basicElements([
        {
          tag: '00880200',
          vr: 'SQ',
          items: [[{ tag: '00280010', vr: 'US', value: [1] }]],
        },
      ]),
      pixelData: { fragments: [Uint8Array.from([1, 2])] },
    });
    expect(el(h, '00880200').items?.[0]?.get('00280010')?.values).toEqual([1]);
  });

  it('parses the header prefix [0, headerEnd) alone (as the header cache does)', () => {
    const file = buildDicom({ elements: basicElements(), pixelData: { native: new Uint8Array(64) } });
    const s = scanDicom(new BufferByteSource(file));
    const full = parseHeader(new BufferByteSource(file), s);
    const prefix = parseHeader(new BufferByteSource(file.subarray(0, s.headerEnd)));
    expect(prefix.dataset.elements.map((e) => e.tag)).toEqual(full.dataset.elements.map((e) => e.tag));
  });

  it('rejects what scanDicom rejects', () => {
    expect(() => parseHeader(new BufferByteSource(Buffer.from('not dicom at all, just text')))).toThrow(InvalidDicomError);
  });
});

describe('displayText and valueMultiplicity', () => {
  const h = header({ elements: EVERY_VR });
  it.each<[string, string | null, number]>([
    ['00080008', 'ORIGINAL\\PRIMARY\\\\AXIAL', 4],
    ['00080090', 'Doe^John=山田^太郎=やまだ^たろう', 1],
    ['00100010', 'Doe^Jane^^^', 1],
    ['00180088', '127\\-150\\abc\\\\0.5', 5],
    ['00181030', null, 0],
    ['00281201', '(OW, 4 bytes)', 1],
    ['00400275', '(Sequence with 2 items)', 1],
    ['00209165', '00100010\\7FE00010', 2],
    ['00082111', '  leading kept\\not split', 1],
  ])('%s → %j, VM %d', (tag, text, vm) => {
    expect(displayText(el(h, tag))).toBe(text);
    expect(valueMultiplicity(el(h, tag))).toBe(vm);
  });

  it('PN groups: trailing empty groups dropped, inner ones kept', () => {
    const pn = (value: string) => displayText(el(header({ elements: [{ tag: '00100010', vr: 'PN', value }] }), '00100010'));
    expect(pn('A^B==P')).toBe('A^B==P');
    expect(pn('A^B==')).toBe('A^B');
    expect(jsonValue(el(header({ elements: [{ tag: '00100010', vr: 'PN', value: '=I' }] }), '00100010'))).toEqual([{ Ideographic: 'I' }]);
  });

  it('empty binary and empty sequences', () => {
    const h2 = header({ elements: [{ tag: '00081115', vr: 'SQ', items: [] }, { tag: '00091010', vr: 'OB', value: new Uint8Array(0) }] });
    expect(displayText(el(h2, '00081115'))).toBe('(Sequence with 0 items)');
    expect(valueMultiplicity(el(h2, '00081115'))).toBe(0);
    expect(displayText(el(h2, '00091010'))).toBe('(OB, 0 bytes)');
    expect(valueMultiplicity(el(h2, '00091010'))).toBe(0);
    expect(jsonValue(el(h2, '00081115'))).toBeNull();
  });
});
