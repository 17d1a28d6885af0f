/**
 * Text decoding per Specific Character Set (0008,0005) (PS3.5 §6.1, PS3.3 C.12.1.1.2), including
 * ISO 2022 code extensions whose escape sequences switch character sets inside a value
 * (PS3.5 §6.1.2.5, Annexes H–K). Node's TextDecoder (full ICU) supplies the actual tables.
 * Decoding never throws: unknown terms and undeclared high bytes fall back to ISO 8859-1, the
 * same assumption dcmtk is asked to make for files without (0008,0005).
 */

/** Decodes the bytes of one text value (all values of the element, delimiters included). */
export interface CharsetDecoder {
  /** `vr` matters for PN, whose component delimiters also end an ISO 2022 designation. */
  decode(bytes: Uint8Array, vr?: string): string;
}

type Segment = (bytes: Uint8Array) => string;

const decoders = new Map<string, TextDecoder>();
function icu(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label, { fatal: false });
    decoders.set(label, d);
  }
  return d;
}

/** True ISO 8859-1 (TextDecoder("latin1") is really windows-1252). */
const latin1: Segment = (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const viaIcu =
  (label: string): Segment =>
  (b) =>
    icu(label).decode(b);
/** JIS X 0201 katakana in G1 (ESC ) I): 0xA1–0xDF → U+FF61–U+FF9F. */
const jisKatakana: Segment = (b) => {
  let s = '';
  for (const x of b) s += x >= 0xa1 && x <= 0xdf ? String.fromCharCode(0xff61 + x - 0xa1) : String.fromCharCode(x);
  return s;
};
/** JIS X 0208 in G0 (bytes 0x21–0x7E in pairs): shift to EUC-JP. */
const jisX0208: Segment = (b) => icu('euc-jp').decode(b.map((x) => x | 0x80));
/** JIS X 0212 in G0: EUC-JP codes it as 0x8F + two bytes with the high bit set. */
const jisX0212: Segment = (b) => {
  const out: number[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push(0x8f, b[i]! | 0x80, b[i + 1]! | 0x80);
  return icu('euc-jp').decode(Uint8Array.from(out));
};

/** Single-byte character sets (ISO 8859 family etc.): whole-value decoders. */
const SINGLE_BYTE: Record<string, Segment> = {
  'ISO_IR 6': latin1, // ASCII; high bytes are non-conformant and read as Latin-1
  'ISO_IR 100': latin1,
  'ISO_IR 101': viaIcu('iso-8859-2'),
  'ISO_IR 109': viaIcu('iso-8859-3'),
  'ISO_IR 110': viaIcu('iso-8859-4'),
  'ISO_IR 144': viaIcu('iso-8859-5'),
  'ISO_IR 127': viaIcu('iso-8859-6'),
  'ISO_IR 126': viaIcu('iso-8859-7'),
  'ISO_IR 138': viaIcu('iso-8859-8'),
  'ISO_IR 148': viaIcu('iso-8859-9'),
  'ISO_IR 203': viaIcu('iso-8859-15'),
  'ISO_IR 166': viaIcu('windows-874'), // TIS 620-2533
  // JIS X 0201: real files also hold Shift-JIS double-byte characters (dcmtk and pydicom read it so)
  'ISO_IR 13': viaIcu('shift_jis'),
  'ISO_IR 192': viaIcu('utf-8'),
  GB18030: viaIcu('gb18030'),
  GBK: viaIcu('gbk'),
};

interface Designation {
  /** "G0" sets decode bytes < 0x80, "G1" sets bytes >= 0x80. */
  readonly g: 0 | 1;
  readonly decode: Segment;
  /** Bytes per character in this set (JIS X 0208/0212 in G0 use 2). */
  readonly width: 1 | 2;
}

const ASCII: Designation = { g: 0, decode: latin1, width: 1 };

/** ISO 2022 escape sequences of PS3.3 Table C.12-3 and C.12-4 (without the leading ESC). */
const ESCAPES: Record<string, Designation> = {
  '(B': ASCII, // ISO-IR 6
  '(J': { g: 0, decode: latin1, width: 1 }, // JIS X 0201 Romaji (read as ASCII, like dcmtk)
  ')I': { g: 1, decode: jisKatakana, width: 1 }, // JIS X 0201 Katakana
  '$B': { g: 0, decode: jisX0208, width: 2 }, // ISO-IR 87
  '$(D': { g: 0, decode: jisX0212, width: 2 }, // ISO-IR 159
  '$)C': { g: 1, decode: viaIcu('euc-kr'), width: 1 }, // ISO-IR 149 KS X 1001
  '$)A': { g: 1, decode: viaIcu('gbk'), width: 1 }, // ISO-IR 58 GB 2312
  '-A': { g: 1, decode: latin1, width: 1 }, // ISO-IR 100
  '-B': { g: 1, decode: viaIcu('iso-8859-2'), width: 1 }, // ISO-IR 101
  '-C': { g: 1, decode: viaIcu('iso-8859-3'), width: 1 }, // ISO-IR 109
  '-D': { g: 1, decode: viaIcu('iso-8859-4'), width: 1 }, // ISO-IR 110
  '-L': { g: 1, decode: viaIcu('iso-8859-5'), width: 1 }, // ISO-IR 144
  '-G': { g: 1, decode: viaIcu('iso-8859-6'), width: 1 }, // ISO-IR 127
  '-F': { g: 1, decode: viaIcu('iso-8859-7'), width: 1 }, // ISO-IR 126
  '-H': { g: 1, decode: viaIcu('iso-8859-8'), width: 1 }, // ISO-IR 138
  '-M': { g: 1, decode: viaIcu('iso-8859-9'), width: 1 }, // ISO-IR 148
  '-b': { g: 1, decode: viaIcu('iso-8859-15'), width: 1 }, // ISO-IR 203
  '-T': { g: 1, decode: viaIcu('windows-874'), width: 1 }, // ISO-IR 166
};

/** Defined terms with code extensions → the sets they designate initially (PS3.3 Table C.12-3/4). */
const EXTENSION_TERMS: Record<string, { g0?: string; g1?: string }> = {
  'ISO 2022 IR 6': { g0: '(B' },
  'ISO 2022 IR 13': { g0: '(J', g1: ')I' },
  'ISO 2022 IR 87': { g0: '$B' },
  'ISO 2022 IR 159': { g0: '$(D' },
  'ISO 2022 IR 149': { g1: '$)C' },
  'ISO 2022 IR 58': { g1: '$)A' },
  'ISO 2022 IR 100': { g1: '-A' },
  'ISO 2022 IR 101': { g1: '-B' },
  'ISO 2022 IR 109': { g1: '-C' },
  'ISO 2022 IR 110': { g1: '-D' },
  'ISO 2022 IR 144': { g1: '-L' },
  'ISO 2022 IR 127': { g1: '-G' },
  'ISO 2022 IR 126': { g1: '-F' },
  'ISO 2022 IR 138': { g1: '-H' },
  'ISO 2022 IR 148': { g1: '-M' },
  'ISO 2022 IR 203': { g1: '-b' },
  'ISO 2022 IR 166': { g1: '-T' },
};

/**
 * Canonical spelling of a defined term: trims, upper-cases and repairs the misspellings seen in
 * real files ("ISO-IR 100", "ISO_IR_100", "ISO IR 100", "ISO2022 IR 87", "UTF-8").
 */
export function normalizeCharsetTerm(term: string): string {
  const t = term.trim().toUpperCase();
  let m = /^ISO[\s_-]*2022[\s_-]*IR[\s_-]*(\d+)$/.exec(t);
  if (m) return `ISO 2022 IR ${Number(m[1])}`;
  m = /^ISO[\s_-]*IR[\s_-]*(\d+)$/.exec(t);
  if (m) return `ISO_IR ${Number(m[1])}`;
  if (t === 'UTF-8' || t === 'UTF8') return 'ISO_IR 192';
  if (t === 'GB2312') return 'ISO 2022 IR 58';
  return t;
}

/** True when this project can decode the defined term (after normalization). */
export function isKnownCharset(term: string): boolean {
  const t = normalizeCharsetTerm(term);
  return t === '' || t in SINGLE_BYTE || t in EXTENSION_TERMS;
}

const ESC = 0x1b;

/** Reads the escape sequence at b[i] (ESC); returns its key and length, or null when unknown. */
function escapeAt(b: Uint8Array, i: number): { key: string; length: number } | null {
  for (const length of [3, 4]) {
    if (i + length > b.length) continue;
    const key = String.fromCharCode(...b.subarray(i + 1, i + length));
    if (key in ESCAPES) return { key, length };
  }
  return null;
}

/** ISO 2022 decoder (PS3.5 §6.1.2.5): follows escape sequences, G0 for GL bytes, G1 for GR bytes. */
class Iso2022Decoder implements CharsetDecoder {
  private readonly initialG0: Designation;
  private readonly initialG1: Designation | null;
  /** High bytes with no G1 designated: the first declared G1 set, else Latin-1. */
  private readonly fallbackG1: Designation;

  constructor(terms: readonly string[]) {
    const first = EXTENSION_TERMS[terms[0] ?? ''] ?? (terms[0] === 'ISO_IR 13' ? EXTENSION_TERMS['ISO 2022 IR 13'] : undefined);
    const firstSingle = terms[0] ? SINGLE_BYTE[terms[0]] : undefined;
    this.initialG0 = first?.g0 ? ESCAPES[first.g0]! : ASCII;
    this.initialG1 = first?.g1 ? ESCAPES[first.g1]! : firstSingle ? { g: 1, decode: firstSingle, width: 1 } : null;
    const declared = terms.map((t) => EXTENSION_TERMS[t]?.g1).find((g1) => g1 !== undefined);
    this.fallbackG1 = this.initialG1 ?? (declared ? ESCAPES[declared]! : { g: 1, decode: latin1, width: 1 });
  }

  decode(b: Uint8Array, vr?: string): string {
    let g0 = this.initialG0;
    let g1 = this.initialG1 ?? this.fallbackG1;
    let out = '';
    let start = 0;
    const flush = (end: number) => {
      // split the run into GL and GR parts, each decoded by its set
      let i = start;
      while (i < end) {
        const high = b[i]! >= 0x80;
        let j = i;
        while (j < end && b[j]! >= 0x80 === high) j++;
        out += (high ? g1 : g0).decode(b.subarray(i, j));
        i = j;
      }
    };
    let i = 0;
    while (i < b.length) {
      const x = b[i]!;
      if (x === ESC) {
        const esc = escapeAt(b, i);
        if (esc) {
          flush(i);
          const d = ESCAPES[esc.key]!;
          if (d.g === 0) g0 = d;
          else g1 = d;
          i += esc.length;
          start = i;
          continue;
        }
      }
      // Delimiters end a designation (PS3.5 §6.1.2.5.3): only meaningful while G0 is single-byte,
      // since in a two-byte G0 set these byte values are halves of characters.
      if (g0.width === 1 && (x === 0x5c || x === 0x0d || x === 0x0a || x === 0x0c || (vr === 'PN' && (x === 0x3d || x === 0x5e)))) {
        flush(i);
        out += String.fromCharCode(x);
        g0 = this.initialG0;
        start = i + 1;
      }
      i++;
    }
    flush(b.length);
    return out;
  }
}

class SimpleDecoder implements CharsetDecoder {
  constructor(private readonly segment: Segment) {}
  decode(bytes: Uint8Array): string {
    return this.segment(bytes);
  }
}

const DEFAULT = new SimpleDecoder(latin1);

/**
 * The decoder for a Specific Character Set value list as written in (0008,0005) (PS3.3
 * C.12.1.1.2). Empty or absent → default repertoire (read as Latin-1 for non-conformant files).
 */
export function charsetDecoder(specificCharacterSet: readonly string[] | null | undefined): CharsetDecoder {
  const terms = (specificCharacterSet ?? []).map(normalizeCharsetTerm);
  while (terms.length > 1 && terms[terms.length - 1] === '') terms.pop();
  if (terms.length === 0 || (terms.length === 1 && terms[0] === '')) return DEFAULT;
  if (terms.length === 1 && terms[0]! in SINGLE_BYTE) return new SimpleDecoder(SINGLE_BYTE[terms[0]!]!);
  // anything with code extensions, or several terms
  if (terms.some((t) => t in EXTENSION_TERMS) || terms.length > 1) return new Iso2022Decoder(terms);
  return DEFAULT; // unknown single term
}

/** Decodes one text value per Specific Character Set (PS3.5 §6.1). */
export function decodeText(bytes: Uint8Array, specificCharacterSet: readonly string[] | null | undefined, vr?: string): string {
  return charsetDecoder(specificCharacterSet).decode(bytes, vr);
}
