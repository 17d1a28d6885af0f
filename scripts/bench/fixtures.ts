/**
 * The benchmark's DICOM files: the corpus CT (or a generated CT-like file of the same geometry),
 * copies of it with a distinct SOP Instance UID of the same length (new bytes, nothing else moves),
 * a ~1 KB file, and big multi-frame files written to disk as a stream (never held in memory).
 */
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type BuildElement, buildDicom, EXPLICIT_LE } from '../../test/helpers/dicom-builder.js';

export const CT_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.2';
export const CT_CORPUS_FILE = 'dicomParser/CT1_UNC.explicit_little_endian.dcm';

export interface CtFixture {
  readonly bytes: Buffer;
  /** Where it came from: the corpus path, or "generated". */
  readonly source: string;
}

/** The 512×512 16-bit CT of the corpus (DICOM_CORPUS overrides ../shared/dicom-corpus), else a generated CT-like file. */
export function loadCt(corpusDir = process.env.DICOM_CORPUS ?? resolve('../shared/dicom-corpus')): CtFixture {
  const path = resolve(corpusDir, CT_CORPUS_FILE);
  if (existsSync(path)) return { bytes: readFileSync(path), source: path };
  return { bytes: buildCtLike({ rows: 512, columns: 512, frames: 1 }), source: 'generated (no corpus)' };
}

/** Where a UI value sits in the file: offset and length of its value field. */
export interface ValueSpan {
  readonly offset: number;
  readonly length: number;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/**
 * The value fields of Media Storage SOP Instance UID (0002,0003) and SOP Instance UID (0008,0018)
 * in a Part 10 file whose data set is explicit VR little endian (the walk stops at the first tag past
 * (0008,0018)); throws when the file is not of that kind or lacks (0008,0018).
 */
export function sopInstanceUidSpans(bytes: Uint8Array): ValueSpan[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 file (no DICM preamble)');
  const spans: ValueSpan[] = [];
  let pos = 132;
  let transferSyntax = '';
  while (pos + 8 <= buf.length) {
    const group = buf.readUInt16LE(pos);
    const element = buf.readUInt16LE(pos + 2);
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    if (!/^[A-Z]{2}$/.test(vr)) throw new Error(`not explicit VR at offset ${pos}`);
    let length: number;
    let valueAt: number;
    if (LONG_VRS.has(vr)) {
      length = buf.readUInt32LE(pos + 8);
      valueAt = pos + 12;
    } else {
      length = buf.readUInt16LE(pos + 6);
      valueAt = pos + 8;
    }
    if (length === 0xffffffff || valueAt + length > buf.length) throw new Error(`undefined or overlong element (${hex(group)},${hex(element)}) before SOP Instance UID`);
    if (group === 0x0002 && element === 0x0010) transferSyntax = buf.toString('latin1', valueAt, valueAt + length).replace(/[\0 ]+$/, '');
    if (group > 0x0002 && transferSyntax !== EXPLICIT_LE) throw new Error(`data set must be explicit VR little endian, got ${transferSyntax || 'none'}`);
    if (group === 0x0002 && element === 0x0003) spans.push({ offset: valueAt, length });
    if (group === 0x0008 && element === 0x0018) {
      spans.push({ offset: valueAt, length });
      return spans;
    }
    if (group > 0x0008 || (group === 0x0008 && element > 0x0018)) break;
    pos = valueAt + length;
  }
  throw new Error('no SOP Instance UID (0008,0018)');
}

/**
 * A valid UID (PS3.5 §9.1: digits and dots, no leading zero in a component) of exactly `length`
 * characters, distinct for each `n` (a UUID-derived 2.25 root): "2.25.1000…0n".
 */
export function uidOfLength(length: number, n: number): string {
  const digits = length - '2.25.'.length;
  const tail = String(n);
  if (length > 64 || digits < tail.length + 1) throw new Error(`cannot make UID ${n} in ${length} characters`);
  return `2.25.1${tail.padStart(digits - 1, '0')}`;
}

/** Writes UID number `n` into every span of `buf`, in place (the template path for uploads). */
export function writeSopInstanceUid(buf: Buffer, spans: readonly ValueSpan[], n: number, base = 0): void {
  for (const span of spans) buf.write(uidOfLength(span.length, n), base + span.offset, span.length, 'latin1');
}

/** A copy of `bytes` with SOP Instance UID number `n` (meta and data set): same length, new bytes. */
export function withSopInstanceUid(bytes: Uint8Array, n: number): Buffer {
  const copy = Buffer.from(bytes);
  writeSopInstanceUid(copy, sopInstanceUidSpans(copy), n);
  return copy;
}

export interface CtLikeOptions {
  rows: number;
  columns: number;
  frames: number;
  sopInstanceUid?: string;
}

/** Header elements of a 16-bit signed CT-like image (ascending tags). */
function ctElements(o: CtLikeOptions): BuildElement[] {
  const uid = o.sopInstanceUid ?? uidOfLength(46, 0);
  return [
    { tag: '00080008', vr: 'CS', value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] },
    { tag: '00080016', vr: 'UI', value: CT_SOP_CLASS },
    { tag: '00080018', vr: 'UI', value: uid },
    { tag: '00080020', vr: 'DA', value: '20040826' },
    { tag: '00080060', vr: 'CS', value: 'CT' },
    { tag: '00100010', vr: 'PN', value: 'Bench^CT' },
    { tag: '00100020', vr: 'LO', value: 'BENCH-1' },
    { tag: '00180050', vr: 'DS', value: '5' },
    { tag: '0020000D', vr: 'UI', value: '2.25.1000000000000000000000000000001' },
    { tag: '0020000E', vr: 'UI', value: '2.25.1000000000000000000000000000002' },
    { tag: '00200013', vr: 'IS', value: '1' },
    { tag: '00280002', vr: 'US', value: 1 },
    { tag: '00280004', vr: 'CS', value: 'MONOCHROME2' },
    ...(o.frames > 1 ? [{ tag: '00280008', vr: 'IS', value: String(o.frames) }] : []),
    { tag: '00280010', vr: 'US', value: o.rows },
    { tag: '00280011', vr: 'US', value: o.columns },
    { tag: '00280100', vr: 'US', value: 16 },
    { tag: '00280101', vr: 'US', value: 16 },
    { tag: '00280102', vr: 'US', value: 15 },
    { tag: '00280103', vr: 'US', value: 1 },
    { tag: '00281050', vr: 'DS', value: '40' },
    { tag: '00281051', vr: 'DS', value: '400' },
    { tag: '00281052', vr: 'DS', value: '-1024' },
    { tag: '00281053', vr: 'DS', value: '1' },
  ];
}

/** One frame of a CT-like phantom: a disc of soft tissue (≈ 40 HU) in air, stored with intercept −1024. */
export function ctFrame(rows: number, columns: number, frame = 0): Buffer {
  const out = Buffer.alloc(rows * columns * 2);
  const r2 = (Math.min(rows, columns) * 0.4) ** 2;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const d = (x - columns / 2) ** 2 + (y - rows / 2) ** 2;
      const v = d < r2 ? 1064 + ((x * 7 + y * 3 + frame) % 64) : 24;
      out.writeInt16LE(v, (y * columns + x) * 2);
    }
  }
  return out;
}

/** The header (meta and data set up to and including the Pixel Data element header) of a CT-like file. */
function ctHeader(o: CtLikeOptions): Buffer {
  const uid = o.sopInstanceUid ?? uidOfLength(46, 0);
  const head = buildDicom({ transferSyntax: EXPLICIT_LE, meta: { sopClassUid: CT_SOP_CLASS, sopInstanceUid: uid }, elements: ctElements(o) });
  const pixelBytes = o.rows * o.columns * 2 * o.frames;
  if (pixelBytes >= 0xffffffff) throw new Error('pixel data too long for a defined length');
  const px = Buffer.alloc(12);
  px.writeUInt16LE(0x7fe0, 0);
  px.writeUInt16LE(0x0010, 2);
  px.write('OW', 4, 'latin1');
  px.writeUInt32LE(pixelBytes, 8);
  return Buffer.concat([head, px]);
}

/** A CT-like file in memory (small ones only). */
export function buildCtLike(o: CtLikeOptions): Buffer {
  const frames = Array.from({ length: o.frames }, (_, f) => ctFrame(o.rows, o.columns, f));
  return Buffer.concat([ctHeader(o), ...frames]);
}

/** A ~1 KB CT-like file (16 × 16, one frame). */
export function tinyCt(n: number): Buffer {
  return buildCtLike({ rows: 16, columns: 16, frames: 1, sopInstanceUid: uidOfLength(46, n) });
}

/** Writes a multi-frame CT-like file to `path` frame by frame; returns its size in bytes. */
export async function writeMultiFrameCt(path: string, o: CtLikeOptions): Promise<number> {
  const handle = await open(path, 'w');
  try {
    const header = ctHeader(o);
    await handle.write(header);
    const frame = ctFrame(o.rows, o.columns);
    for (let f = 0; f < o.frames; f++) await handle.write(frame);
    return header.length + frame.length * o.frames;
  } finally {
    await handle.close();
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0').toUpperCase();
}
