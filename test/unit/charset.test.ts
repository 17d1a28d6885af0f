import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { charsetDecoder, decodeText, isKnownCharset, normalizeCharsetTerm } from '../../src/dicom/charset.js';
import { parseHeader } from '../../src/dicom/header.js';
import { jsonValue } from '../../src/dicom/value.js';
import { buildDicom } from '../helpers/dicom-builder.js';

/** Bytes from a string where "\x1b" etc. stand for single bytes. */
const bytes = (s: string) => Buffer.from(s, 'latin1');
const ESC = '\x1b';

describe('single-byte and Unicode character sets (PS3.3 C.12.1.1.2)', () => {
  it.each<[string, string, string]>([
    ['ISO_IR 100', 'Buc\xe9ne\x80', 'Bucéne\u0080'], // true ISO 8859-1, not windows-1252
    ['ISO_IR 101', 'Wal\xea\xb3esa', 'Walęłesa'],
    ['ISO_IR 109', '\xf8\xbd', 'ĝ½'],
    ['ISO_IR 110', '\xf3', 'ķ'],
    ['ISO_IR 144', '\xbb\xde\xda\xde\xe2\xec', 'Локоть'],
    ['ISO_IR 127', '\xd5', 'ص'],
    ['ISO_IR 126', '\xc8', 'Θ'],
    ['ISO_IR 138', '\xe3', 'ד'],
    ['ISO_IR 148', '\xdd', 'İ'],
    ['ISO_IR 166', '\xfb', '๛'],
    ['ISO_IR 13', '\xc8', 'ﾈ'],
    ['ISO_IR 192', 'Gr\xc3\xbc\xc3\x9f', 'Grüß'],
    ['GB18030', '\xd5\xc5', '张'],
    ['GBK', '\xd5\xc5', '张'],
  ])('%s', (term, raw, expected) => {
    expect(decodeText(bytes(raw), [term])).toBe(expected);
  });

  it('reads text without (0008,0005) as ISO 8859-1 (the assumption dcmtk is given)', () => {
    expect(decodeText(bytes('c\xe9r\xe9brale'), [])).toBe('cérébrale');
    expect(decodeText(bytes('c\xe9r\xe9brale'), null)).toBe('cérébrale');
  });

  it('repairs misspelled terms seen in real files', () => {
    expect(normalizeCharsetTerm('ISO-IR 100')).toBe('ISO_IR 100');
    expect(normalizeCharsetTerm(' iso_ir_192 ')).toBe('ISO_IR 192');
    expect(normalizeCharsetTerm('ISO2022 IR 87')).toBe('ISO 2022 IR 87');
    expect(normalizeCharsetTerm('ISO_2022_IR_100')).toBe('ISO 2022 IR 100');
    expect(decodeText(bytes('B\xe4cken'), ['ISO-IR 100'])).toBe('Bäcken');
    expect(decodeText(bytes('B\xe4cken'), ['ISO 2022 IR 100'])).toBe('Bäcken');
    expect(isKnownCharset('ISO-IR 100')).toBe(true);
    expect(isKnownCharset('ISO_IR 999')).toBe(false);
  });

  it('falls back to ISO 8859-1 for unknown terms instead of failing', () => {
    expect(decodeText(bytes('\xe9'), ['ISO_IR 999'])).toBe('é');
  });
});

describe('ISO 2022 code extensions (PS3.5 §6.1.2.5, Annexes H–K)', () => {
  it('Japanese, ISO 2022 IR 87 (PS3.5 H.3.1)', () => {
    const raw = bytes(
      `Yamada^Tarou=${ESC}$B;3ED${ESC}(B^${ESC}$BB@O:${ESC}(B=${ESC}$B$d$^$@${ESC}(B^${ESC}$B$?$m$&${ESC}(B`,
    );
    expect(decodeText(raw, ['', 'ISO 2022 IR 87'], 'PN')).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('Japanese, ISO 2022 IR 13 + IR 87: half-width katakana in G1 (PS3.5 H.3.2)', () => {
    const raw = bytes(`\xd4\xcf\xc0\xde^\xc0\xdb\xb3=${ESC}$B;3ED${ESC}(J^${ESC}$BB@O:${ESC}(J=${ESC}$B$d$^$@${ESC}(J^${ESC}$B$?$m$&${ESC}(J`);
    expect(decodeText(raw, ['ISO 2022 IR 13', 'ISO 2022 IR 87'], 'PN')).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('Japanese, JIS X 0212 (ISO 2022 IR 159)', () => {
    // 0x3021 in JIS X 0212 is 丂 (U+4E02)
    expect(decodeText(bytes(`${ESC}$(D0!${ESC}(B`), ['', 'ISO 2022 IR 159'])).toBe('丂');
  });

  it('Korean, ISO 2022 IR 149 (PS3.5 I.2)', () => {
    const raw = bytes(`Hong^Gildong=${ESC}$)C\xfb\xf3^${ESC}$)C\xd1\xce\xd4\xd7=${ESC}$)C\xc8\xab^${ESC}$)C\xb1\xe6\xb5\xbf`);
    expect(decodeText(raw, ['', 'ISO 2022 IR 149'], 'PN')).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('Korean without repeated escapes keeps G1 designated', () => {
    const raw = bytes(`${ESC}$)C\xc8\xab^\xb1\xe6\xb5\xbf`);
    expect(decodeText(raw, ['', 'ISO 2022 IR 149'], 'PN')).toBe('홍^길동');
    // and undeclared high bytes fall back to the declared G1 set
    expect(decodeText(bytes('\xc8\xab'), ['', 'ISO 2022 IR 149'])).toBe('홍');
  });

  it('Chinese, ISO 2022 IR 58 / GB 2312 (PS3.5 J.4)', () => {
    const raw = bytes(`Zhang^XiaoDong=${ESC}$)A\xd5\xc5^${ESC}$)A\xd0\xa1\xb6\xab=`);
    expect(decodeText(raw, ['', 'ISO 2022 IR 58'], 'PN')).toBe('Zhang^XiaoDong=张^小东=');
  });

  it('switches single-byte G1 sets inside one value', () => {
    const raw = bytes(`${ESC}-A\xe9 ${ESC}-L\xbb`);
    expect(decodeText(raw, ['ISO 2022 IR 100', 'ISO 2022 IR 144'])).toBe('é Л');
  });

  it('does not treat the second byte of a JIS character as a delimiter', () => {
    // ま is 0x245E: its second byte is "^"
    expect(decodeText(bytes(`${ESC}$B$^${ESC}(B`), ['', 'ISO 2022 IR 87'], 'PN')).toBe('ま');
  });

  it('returns one decoder per Specific Character Set', () => {
    const d = charsetDecoder(['', 'ISO 2022 IR 87']);
    expect(d.decode(bytes('abc'))).toBe('abc');
  });
});

describe('parseHeader applies the character set, also inside sequence items', () => {
  it('multi-valued (0008,0005) and a PN with three groups; items inherit it; an item may change it', () => {
    const pn = bytes(`Yamada^Tarou=${ESC}$B;3ED${ESC}(B^${ESC}$BB@O:${ESC}(B=${ESC}$B$d$^$@${ESC}(B^${ESC}$B$?$m$&${ESC}(B`);
    const file = buildDicom({
      elements: [
        { tag: '00080005', vr: 'CS', value: '\\ISO 2022 IR 87' },
        { tag: '00081111', vr: 'SQ', items: [[{ tag: '00100010', vr: 'PN', value: pn }]] },
        {
          tag: '00081115',
          vr: 'SQ',
          undefinedLength: true,
          itemUndefinedLength: true,
          items: [
            [
              { tag: '00080005', vr: 'CS', value: 'ISO_IR 144' },
              { tag: '00081030', vr: 'LO', value: bytes('\xbb\xde\xda\xde\xe2\xec') },
            ],
          ],
        },
        { tag: '00100010', vr: 'PN', value: pn },
        { tag: '00104000', vr: 'LT', value: bytes('\xbb') }, // after the item: the item's set no longer applies
      ],
    });
    const h = parseHeader(new BufferByteSource(file));
    expect(h.specificCharacterSet).toEqual(['', 'ISO 2022 IR 87']);
    const expected = [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }];
    expect(jsonValue(h.dataset.get('00100010')!)).toEqual(expected);
    expect(jsonValue(h.dataset.get('00081111')!.items![0]!.get('00100010')!)).toEqual(expected);
    expect(h.dataset.get('00081115')!.items![0]!.get('00081030')!.values).toEqual(['Локоть']);
    expect(h.dataset.get('00104000')!.values).toEqual(['»']);
  });
});
