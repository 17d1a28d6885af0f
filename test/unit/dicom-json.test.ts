/** The DICOM JSON Model conversion (PS3.18 F.2) on synthetic files. */
import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { dicomJson, findByPath, littleEndianBytes, parseBulkDataPath } from '../../src/dicom/dicom-json.js';
import { parseHeader } from '../../src/dicom/header.js';
import { basicElements, buildDicom, EXPLICIT_BE, IMPLICIT_LE } from '../helpers/dicom-builder.js';

const uri = (path: readonly (string | number)[]) => `bulk:${path.join('/')}`;

describe('dicomJson (PS3.18 F.2)', () => {
  const bytes = buildDicom({
    elements: basicElements([
      { tag: '00081140', vr: 'SQ', items: [[{ tag: '00081155', vr: 'UI', value: '9.8.7' }], []] },
      { tag: '00082112', vr: 'SQ', items: [] },
      { tag: '00091010', vr: 'LO', value: 'private' },
      { tag: '00100030', vr: 'DA', value: '' },
      { tag: '00181310', vr: 'US', value: [0, 512, 512, 0] },
      { tag: '00200032', vr: 'DS', value: '-125.5\\-130\\7.25e1' },
      { tag: '00201041', vr: 'DS', value: 'abc' },
      { tag: '00209165', vr: 'AT', value: [0x00100020, 0x7fe00010] },
      { tag: '00281050', vr: 'DS', value: '40\\\\400' },
      { tag: '00291010', vr: 'OB', value: new Uint8Array([1, 2, 3, 4]) },
      { tag: '00291020', vr: 'OB', value: new Uint8Array(2000).fill(7) },
      {
        tag: '00880200',
        vr: 'SQ',
        items: [[{ tag: '7FE00010', vr: 'OB', value: new Uint8Array(1500).fill(9) }]],
      },
      { tag: '00400275', vr: 'SQ', items: [[{ tag: '00321060', vr: 'LO', value: 'Requested' }, { tag: '00401001', vr: 'SH', value: 'RP1' }]] },
      { tag: '00080090', vr: 'PN', value: 'Smith^Ann==Smit^An' },
      { tag: '00081050', vr: 'PN', value: '' },
    ]),
    pixelData: { native: new Uint8Array(32), vr: 'OW' },
  });
  const json = dicomJson(new BufferByteSource(bytes), { bulkDataUri: uri });

  it('keys attributes by GGGGEEEE in ascending order, file meta included', () => {
    const keys = Object.keys(json);
    expect(keys).toEqual([...keys].sort());
    expect(keys[0]).toBe('00020000');
    expect(json['00020010']).toEqual({ vr: 'UI', Value: ['1.2.840.10008.1.2.1'] });
    expect(keys.every((k) => /^[0-9A-F]{8}$/.test(k))).toBe(true);
  });

  it('gives strings, numbers, person names, AT and empty values their JSON shape', () => {
    expect(json['00080060']).toEqual({ vr: 'CS', Value: ['OT'] });
    expect(json['00181310']).toEqual({ vr: 'US', Value: [0, 512, 512, 0] });
    expect(json['00200032']).toEqual({ vr: 'DS', Value: [-125.5, -130, 72.5] });
    expect(json['00201041']).toEqual({ vr: 'DS', Value: ['abc'] });
    expect(json['00209165']).toEqual({ vr: 'AT', Value: ['00100020', '7FE00010'] });
    expect(json['00281050']).toEqual({ vr: 'DS', Value: [40, null, 400] }); // F.2.5: an empty value is null
    expect(json['00100030']).toEqual({ vr: 'DA' }); // present, empty: no Value
    expect(json['00081050']).toEqual({ vr: 'PN' });
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] });
    expect(json['00080090']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Smith^Ann', Phonetic: 'Smit^An' }] });
    expect(json['00091010']).toEqual({ vr: 'LO', Value: ['private'] });
  });

  it('gives sequences as arrays of nested objects', () => {
    expect(json['00081140']).toEqual({ vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['9.8.7'] } }, {}] });
    expect(json['00082112']).toEqual({ vr: 'SQ' });
    expect(json['00400275']).toEqual({
      vr: 'SQ',
      Value: [{ '00321060': { vr: 'LO', Value: ['Requested'] }, '00401001': { vr: 'SH', Value: ['RP1'] } }],
    });
  });

  it('inlines small binary values and refers to large ones and to Pixel Data by path', () => {
    expect(json['00291010']).toEqual({ vr: 'OB', InlineBinary: Buffer.from([1, 2, 3, 4]).toString('base64') });
    expect(json['00291020']).toEqual({ vr: 'OB', BulkDataURI: 'bulk:00291020' });
    expect(json['00880200']).toEqual({ vr: 'SQ', Value: [{ '7FE00010': { vr: 'OB', BulkDataURI: 'bulk:00880200/0/7FE00010' } }] });
    expect(json['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulk:7FE00010' });
    const small = dicomJson(new BufferByteSource(bytes), { bulkDataUri: uri, inlineBinaryMaxBytes: 4000 });
    expect(small['00291020']?.InlineBinary).toBe(Buffer.alloc(2000, 7).toString('base64'));
    expect(small['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulk:7FE00010' }); // always by reference
  });

  it('swaps big endian words to little endian for InlineBinary', () => {
    const be = buildDicom({
      transferSyntax: EXPLICIT_BE,
      elements: basicElements([{ tag: '00283006', vr: 'OW', value: new Uint8Array([0x01, 0x02, 0x03, 0x04]) }]),
    });
    const out = dicomJson(new BufferByteSource(be), { bulkDataUri: uri });
    expect(Buffer.from(out['00283006']!.InlineBinary!, 'base64')).toEqual(Buffer.from([0x02, 0x01, 0x04, 0x03]));
    expect(littleEndianBytes(new Uint8Array([1, 2, 3, 4, 5]), 'OL', false)).toEqual(new Uint8Array([4, 3, 2, 1, 5]));
    expect(littleEndianBytes(new Uint8Array([1, 2]), 'OB', false)).toEqual(new Uint8Array([1, 2]));
  });

  it('reads implicit VR files with the dictionary VRs', () => {
    const implicit = buildDicom({ transferSyntax: IMPLICIT_LE, elements: basicElements([{ tag: '00280010', vr: 'US', value: 7 }]) });
    expect(dicomJson(new BufferByteSource(implicit), { bulkDataUri: uri })['00280010']).toEqual({ vr: 'US', Value: [7] });
  });

  it('parses bulk data paths and finds their elements', () => {
    expect(parseBulkDataPath('7fe00010')).toEqual(['7FE00010']);
    expect(parseBulkDataPath('00880200/0/7FE00010')).toEqual(['00880200', 0, '7FE00010']);
    for (const bad of ['', '7FE0001', '00880200/0', '00880200/x/7FE00010', '../etc', '00880200//7FE00010']) expect(parseBulkDataPath(bad), bad).toBeNull();
    const header = parseHeader(new BufferByteSource(bytes));
    expect(findByPath([header.meta, header.dataset], ['00880200', 0, '7FE00010'])?.bytes?.length).toBe(1500);
    expect(findByPath([header.meta, header.dataset], ['00880200', 1, '7FE00010'])).toBeUndefined();
    expect(findByPath([header.meta, header.dataset], ['00020010'])?.vr).toBe('UI');
  });
});
