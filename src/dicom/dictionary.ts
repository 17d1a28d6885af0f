/**
 * The standard data dictionary (PS3.6 §6–8), generated at first use from two packaged sources
 * rather than typed by hand: dcmjs's dictionary gives keyword, tag, VR and VM (and is what the
 * header parser uses, so the two agree); @iwharris/dicom-data-dictionary (PS3.6 2019e) gives the
 * human names ("Patient's Name"). Entries newer than 2019e or in group 0002 get a name derived
 * from their keyword.
 */
import dcmjs from 'dcmjs';
import { elements as iwElements } from '@iwharris/dicom-data-dictionary';

export interface DictionaryEntry {
  /** "GGGGEEEE", upper-case hex; for repeating groups the base tag (e.g. "60003000"). */
  tag: string;
  keyword: string;
  name: string;
  /** PS3.6 notation: "PN", "US or SS", "OB or OW", … */
  vr: string;
  vm: string;
  retired: boolean;
}

interface MaskedEntry {
  mask: number;
  value: number;
  /** Repeating groups (50xx, 60xx, 7Fxx) only use even groups. */
  evenGroupOnly: boolean;
  entry: DictionaryEntry;
}

interface Dictionary {
  byTag: Map<string, DictionaryEntry>;
  masked: MaskedEntry[];
  byKeyword: Map<string, string>;
  byKeywordLower: Map<string, string>;
}

let built: Dictionary | undefined;

/** dcmjs's internal VR codes → PS3.6 notation. */
const DCMJS_VR: Record<string, string> = {
  xs: 'US or SS',
  ox: 'OB or OW',
  lt: 'US or OW',
  up: 'UL',
  na: '',
};

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(parseInt(dec, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** "SOPInstanceUID" → "SOP Instance UID" (used when the 2019e dictionary has no name). */
export function nameFromKeyword(keyword: string): string {
  return keyword
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .trim();
}

function hexTag(paren: string): string {
  return (paren.slice(1, 5) + paren.slice(6, 10)).toUpperCase();
}

function maskOf(pattern: string): { mask: number; value: number } {
  let mask = 0;
  let value = 0;
  for (const ch of pattern) {
    mask = mask * 16 + (/x/i.test(ch) ? 0 : 15);
    value = value * 16 + (/x/i.test(ch) ? 0 : parseInt(ch, 16));
  }
  return { mask: mask >>> 0, value: value >>> 0 };
}

function build(): Dictionary {
  const names = new Map<string, string>();
  const masked: MaskedEntry[] = [];
  const maskedByBase = new Map<string, MaskedEntry>();
  for (const el of Object.values(iwElements)) {
    const tag = hexTag(el.tag);
    const vr = /^[A-Z]{2}( or [A-Z]{2})*$/.test(el.vr) ? el.vr : '';
    if (/x/i.test(tag)) {
      const { mask, value } = maskOf(tag);
      const m: MaskedEntry = {
        mask,
        value,
        evenGroupOnly: /x/i.test(tag.slice(0, 4)),
        entry: {
          tag: value.toString(16).toUpperCase().padStart(8, '0'),
          keyword: el.keyword,
          name: decodeEntities(el.name),
          vr,
          vm: el.vm,
          retired: el.isRetired,
        },
      };
      masked.push(m);
      maskedByBase.set(m.entry.tag, m);
    } else {
      names.set(tag, decodeEntities(el.name));
    }
  }

  const byTag = new Map<string, DictionaryEntry>();
  const byKeyword = new Map<string, string>();
  for (const [dcmjsName, e] of Object.entries(dcmjs.data.DicomMetaDictionary.nameMap)) {
    if (!/^\([0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\)$/.test(e.tag)) continue;
    const tag = hexTag(e.tag);
    if (parseInt(tag.slice(0, 4), 16) % 2 === 1) continue; // private
    const retired = dcmjsName.startsWith('RETIRED_');
    const keyword = retired ? dcmjsName.slice('RETIRED_'.length) : dcmjsName;
    const vr = DCMJS_VR[e.vr] ?? e.vr;
    const rep = maskedByBase.get(tag);
    if (rep) {
      // dcmjs lists a repeating-group element under its base tag: keep it masked
      rep.entry = { ...rep.entry, vr: rep.entry.vr || vr, vm: rep.entry.vm || e.vm, keyword };
    } else {
      byTag.set(tag, { tag, keyword, name: names.get(tag) ?? nameFromKeyword(keyword), vr, vm: e.vm, retired });
    }
    // a current element wins over a retired one with the same keyword
    if (!byKeyword.has(keyword) || !retired) byKeyword.set(keyword, tag);
  }
  for (const m of masked) if (!byKeyword.has(m.entry.keyword)) byKeyword.set(m.entry.keyword, m.entry.tag);
  const byKeywordLower = new Map<string, string>();
  for (const [k, t] of byKeyword) byKeywordLower.set(k.toLowerCase(), t);
  return { byTag, masked, byKeyword, byKeywordLower };
}

function dictionary(): Dictionary {
  built ??= build();
  return built;
}

/** Standard dictionary entry for a "GGGGEEEE" tag (PS3.6 §6); undefined for private or unknown tags. */
export function lookupTag(tag: string): DictionaryEntry | undefined {
  const t = tag.toUpperCase();
  if (!/^[0-9A-F]{8}$/.test(t)) return undefined;
  const group = parseInt(t.slice(0, 4), 16);
  if (group % 2 === 1) return undefined;
  const d = dictionary();
  const exact = d.byTag.get(t);
  if (exact) return exact;
  const n = parseInt(t, 16) >>> 0;
  for (const m of d.masked) {
    if (((n & m.mask) >>> 0) === m.value) return { ...m.entry, tag: t };
  }
  if (t.endsWith('0000')) {
    // PS3.5 §7.2: every group may have a (retired) Group Length element
    return { tag: t, keyword: 'GroupLength', name: 'Group Length', vr: 'UL', vm: '1', retired: true };
  }
  return undefined;
}

/** The "GGGGEEEE" tag of a dictionary keyword (PS3.6 §6), exact case first, then case-insensitive. */
export function tagForKeyword(keyword: string): string | undefined {
  const d = dictionary();
  return d.byKeyword.get(keyword) ?? d.byKeywordLower.get(keyword.toLowerCase());
}

/**
 * The VR an implicit VR data set implies for a tag (PS3.5 §7.1.3, Annex A.1): the dictionary's,
 * with the ambiguous ones resolved as implicit encodings require ("OB or OW" → OW, "US or SS" →
 * US); Pixel Data of undefined length is encapsulated (OB); private creators are LO (PS3.5
 * §7.8.1); other private and unknown tags are UN.
 */
export function implicitVr(tag: number, length: number): string {
  const t = tag >>> 0;
  if (t === 0x7fe00010) return length === 0xffffffff ? 'OB' : 'OW';
  const group = t >>> 16;
  const element = t & 0xffff;
  if (group % 2 === 1) return element >= 0x0010 && element <= 0x00ff ? 'LO' : 'UN';
  const vr = lookupTag(t.toString(16).toUpperCase().padStart(8, '0'))?.vr ?? '';
  if (vr === '') return 'UN';
  if (vr.includes('OW')) return 'OW';
  return vr.slice(0, 2);
}
