/**
 * One factory for every tag spelling (like pydicom's Tag()): the GraphQL layer and tests pass
 * whatever the user typed through parseTag and get one canonical form, "GGGGEEEE".
 */
import { InvalidTagError } from '../errors.js';
import { tagForKeyword } from './dictionary.js';

const PAREN = /^\(\s*([0-9a-f]{4})\s*,\s*([0-9a-f]{4})\s*\)$/i;
const COMMA = /^([0-9a-f]{4})\s*,\s*([0-9a-f]{4})$/i;
const PLAIN = /^([0-9a-f]{4})([0-9a-f]{4})$/i;
const KEYWORD = /^[A-Za-z][A-Za-z0-9]*$/;

/** Parse "(0010,0020)", "0010,0020", "00100020" (any case) or a PS3.6 keyword into "00100020". */
export function parseTag(input: string): string {
  if (typeof input !== 'string') throw new InvalidTagError(String(input));
  const s = input.trim();
  const m = PAREN.exec(s) ?? COMMA.exec(s) ?? PLAIN.exec(s);
  if (m) return `${m[1]}${m[2]}`.toUpperCase();
  if (KEYWORD.test(s)) {
    const tag = tagForKeyword(s);
    if (tag) return tag;
    throw new InvalidTagError(input, `unknown keyword; expected a PS3.6 keyword such as "PatientID" or a tag such as "(0010,0020)"`);
  }
  throw new InvalidTagError(input);
}

/** "00100020" → "(0010,0020)" (PS3.5 §7.1 notation); other spellings are parsed first. */
export function formatTag(tag: string): string {
  const t = PLAIN.test(tag) ? tag.toUpperCase() : parseTag(tag);
  return `(${t.slice(0, 4)},${t.slice(4)})`;
}
