/**
 * One sequential read of a whole file in a worker thread: its SHA-256 (the content address), its
 * size and its first bytes (what the ingest needs to tell a ZIP archive from a DICOM file). Run by
 * the parse worker before it validates the file, so that the event loop never reads or hashes an
 * upload (src/storage/dicom-ingest.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileDigest } from '../storage/dicom-ingest.js';

export type { FileDigest };

/** Bytes kept at the start of the file: the 128-byte preamble and "DICM", or a ZIP signature. */
export const HEAD_BYTES = 132;

/** Reused by every digest of this thread (one task at a time per worker). */
let buffer: Buffer | undefined;
const CHUNK = 1 << 20;

/** An open file whose size is known before its bytes are read (the caller may announce it). */
export interface OpenFile {
  readonly fd: number;
  readonly byteSize: number;
  close(): void;
}

export function openForDigest(path: string): OpenFile {
  const fd = openSync(path, 'r');
  try {
    const byteSize = fstatSync(fd).size;
    return { fd, byteSize, close: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Reads the open file from its start to its end. The file must not change meanwhile (a finished
 * spool file): a length different from the size seen at open is an error, not a digest.
 */
export function digestOpenFile(file: OpenFile): FileDigest {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  const hash = createHash('sha256');
  let head: Uint8Array | undefined;
  let offset = 0;
  for (;;) {
    const n = readSync(file.fd, buffer, 0, CHUNK, offset);
    if (n === 0) break;
    if (offset === 0) head = Uint8Array.prototype.slice.call(buffer, 0, Math.min(n, HEAD_BYTES));
    hash.update(n === CHUNK ? buffer : buffer.subarray(0, n));
    offset += n;
  }
  if (offset !== file.byteSize) throw new Error(`file changed while it was read: ${offset} bytes, ${file.byteSize} at open`);
  return { sha256: hash.digest('hex'), byteSize: offset, head: head ?? new Uint8Array(0) };
}
