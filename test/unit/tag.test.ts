import { describe, expect, it } from 'vitest';
import { lookupTag, nameFromKeyword, tagForKeyword } from '../../src/dicom/dictionary.js';
import { InvalidTagError } from '../../src/errors.js';
import { formatTag, parseTag } from '../../src/dicom/tag.js';

describe('parseTag (every spelling → "GGGGEEEE")', () => {
  it.each([
    ['(0010,0020)', '00100020'],
    ['0010,0020', '00100020'],
    ['00100020', '00100020'],
    ['  (0010,0020)\n', '00100020'],
    ['(7fe0,0010)', '7FE00010'],
    ['7Fe0,0010', '7FE00010'],
    ['(0010, 0020)', '00100020'],
    ['0009,10ab', '000910AB'],
    ['PatientID', '00100020'],
    ['PatientName', '00100010'],
    ['PixelData', '7FE00010'],
    ['TransferSyntaxUID', '00020010'],
    ['patientid', '00100020'],
    [' SOPInstanceUID ', '00080018'],
  ])('%j → %s', (input, expected) => {
    expect(parseTag(input)).toBe(expected);
  });

  it.each([
    '',
    '   ',
    '(0010,002)',
    '0010002',
    '001000200',
    '(0010,0020',
    '0010,0020)',
    '(0010;0020)',
    '0x00100020',
    'gggg,eeee',
    '(00G0,0020)',
    'NotAKeywordAtAll',
    'Patient ID',
    '12',
    '(0010,0020)(0010,0020)',
  ])('rejects %j with InvalidTagError', (input) => {
    expect(() => parseTag(input)).toThrow(InvalidTagError);
  });

  it('rejects non-strings without crashing', () => {
    expect(() => parseTag(undefined as unknown as string)).toThrow(InvalidTagError);
  });

  it('names the bad input in the error', () => {
    expect(() => parseTag('(0010;0020)')).toThrow(/"\(0010;0020\)"/);
    expect(() => parseTag('PatientIdentity')).toThrow(/unknown keyword/);
  });
});

describe('formatTag', () => {
  it('formats the canonical form as (gggg,eeee)', () => {
    expect(formatTag('00100020')).toBe('(0010,0020)');
    expect(formatTag('7fe00010')).toBe('(7FE0,0010)');
  });
  it('accepts other spellings', () => {
    expect(formatTag('PatientName')).toBe('(0010,0010)');
  });
});

describe('dictionary', () => {
  it('has names with entities decoded and VR/VM', () => {
    expect(lookupTag('00100010')).toEqual({
      tag: '00100010',
      keyword: 'PatientName',
      name: "Patient's Name",
      vr: 'PN',
      vm: '1',
      retired: false,
    });
  });
  it('derives names for group 0002 from the keyword', () => {
    expect(lookupTag('00020010')?.name).toBe('Transfer Syntax UID');
    expect(lookupTag('00020000')?.name).toBe('File Meta Information Group Length');
  });
  it('resolves repeating groups 50xx / 60xx / 7Fxx to their entry', () => {
    expect(lookupTag('60023000')).toMatchObject({ tag: '60023000', keyword: 'OverlayData', vr: 'OB or OW' });
    expect(lookupTag('601E0010')?.keyword).toBe('OverlayRows');
    expect(lookupTag('50103000')?.keyword).toBe('CurveData');
    expect(lookupTag('7F020010')?.keyword).toBe('VariablePixelData');
    expect(lookupTag('7FE00010')?.keyword).toBe('PixelData');
  });
  it('knows group length elements of every group', () => {
    expect(lookupTag('00280000')).toMatchObject({ name: 'Group Length', vr: 'UL', retired: true });
  });
  it('returns undefined for private and unknown tags', () => {
    expect(lookupTag('00090010')).toBeUndefined();
    expect(lookupTag('00291010')).toBeUndefined();
    expect(lookupTag('60013000')).toBeUndefined(); // odd group: private, not an overlay
    expect(lookupTag('00100023')).toBeUndefined();
    expect(lookupTag('nonsense')).toBeUndefined();
  });
  it('marks retired elements and keeps their keyword without prefix', () => {
    expect(lookupTag('00080001')).toMatchObject({ keyword: 'LengthToEnd', retired: true });
  });
  it('maps keywords to tags', () => {
    expect(tagForKeyword('StudyInstanceUID')).toBe('0020000D');
    expect(tagForKeyword('OverlayData')).toBe('60003000');
    expect(tagForKeyword('NoSuchKeyword')).toBeUndefined();
  });
  it('splits keywords into words', () => {
    expect(nameFromKeyword('SOPInstanceUID')).toBe('SOP Instance UID');
    expect(nameFromKeyword('FileMetaInformationVersion')).toBe('File Meta Information Version');
  });
});
