/**
 * Crafted hostile DICOM files (STACK-NOTES, dcmjs: denial of service): sequences nested very deep
 * and a deflate bomb. Written by hand, not through the recursive builder, so that building them
 * cannot overflow the stack.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { basicElements, DEFLATED_LE, encodeDataset, encodeMeta, EXPLICIT_LE } from './dicom-builder.js';

const LE = { explicit: true, little: true };

function preambleAndMeta(transferSyntax: string): Buffer {
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), encodeMeta(transferSyntax)]);
}

/**
 * Explicit VR LE; (0040,A730) ContentSequence nested `depth` levels deep, every sequence and item
 * of undefined length (36 bytes a level: 10⁴ deep ≈ 0.36 MB, 10⁵ deep ≈ 3.6 MB).
 */
export function nestedSequences(depth: number): Buffer {
  const open = Buffer.alloc(20);
  open.writeUInt16LE(0x0040, 0);
  open.writeUInt16LE(0xa730, 2);
  open.write('SQ', 4, 'latin1');
  open.writeUInt32LE(0xffffffff, 8);
  open.writeUInt16LE(0xfffe, 12);
  open.writeUInt16LE(0xe000, 14);
  open.writeUInt32LE(0xffffffff, 16);
  const close = Buffer.alloc(16);
  close.writeUInt16LE(0xfffe, 0);
  close.writeUInt16LE(0xe00d, 2);
  close.writeUInt16LE(0xfffe, 8);
  close.writeUInt16LE(0xe0dd, 10);
  const body = Buffer.alloc(depth * 36);
  for (let i = 0; i < depth; i++) open.copy(body, i * 20);
  for (let i = 0; i < depth; i++) close.copy(body, depth * 20 + i * 16);
  return Buffer.concat([preambleAndMeta(EXPLICIT_LE), encodeDataset(basicElements(), LE), body]);
}

/** Deflated Explicit VR LE whose data set inflates to about `inflatedBytes` (zeros in an OB element after the basic elements). */
export function deflateBomb(inflatedBytes = 200 * 1024 * 1024): Buffer {
  const head = encodeDataset(basicElements(), LE);
  const ob = Buffer.alloc(12);
  ob.writeUInt16LE(0x0009, 0); // a private group: (0009,1010) OB
  ob.writeUInt16LE(0x1010, 2);
  ob.write('OB', 4, 'latin1');
  const length = inflatedBytes - (inflatedBytes % 2);
  ob.writeUInt32LE(length, 8);
  const dataset = Buffer.concat([head, ob, Buffer.alloc(length)]);
  return Buffer.concat([preambleAndMeta(DEFLATED_LE), deflateRawSync(dataset, { level: 9 })]);
}

/** Rows in dicom_files and blob files under DATA_DIR: "nothing is stored" checks. */
export function storedCounts(dataDir: string): { rows: number; blobs: number } {
  const db = new Database(join(dataDir, 'dicomql.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const { n } = db.prepare('SELECT count(*) AS n FROM dicom_files').get() as { n: number };
    const dir = join(dataDir, 'blobs');
    const blobs = existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0;
    return { rows: n, blobs };
  } finally {
    db.close();
  }
}
