/** A ByteSource over a file on disk: random access with positioned reads, nothing loaded whole. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ByteSource } from '../dicom/byte-source.js';

/** Reads are served from a small window so that walking many small elements stays cheap. */
const WINDOW = 64 * 1024;
/**
 * The first window is smaller: most headers end within a few KB, and validating an upload reads
 * only its header; every further window doubles, up to WINDOW.
 */
const FIRST_WINDOW = 16 * 1024;

export class FileByteSource implements ByteSource {
  readonly size: number;
  private fd: number | null;
  /** A plain Uint8Array view (not a Buffer): its subarray() is the engine's, several times cheaper than Buffer's. */
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  private nextWindow = FIRST_WINDOW;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(offset: number, length: number): Uint8Array {
    if (this.fd === null) throw new Error('FileByteSource is closed');
    const start = Math.min(Math.max(0, offset), this.size);
    const end = Math.min(this.size, start + Math.max(0, length));
    if (start >= this.windowStart && end <= this.windowStart + this.window.length) {
      return this.window.subarray(start - this.windowStart, end - this.windowStart);
    }
    if (end - start > WINDOW) return this.readFully(start, end - start);
    const size = Math.min(Math.max(this.nextWindow, end - start), this.size - start);
    this.nextWindow = Math.min(WINDOW, this.nextWindow * 2);
    const buf = this.readFully(start, size);
    this.window = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.windowStart = start;
    return this.window.subarray(0, end - start);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private readFully(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd as number, buf, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }
}

/** Runs `use` with a FileByteSource and always closes it. */
export function withFileSource<T>(path: string, use: (source: FileByteSource) => T): T {
  const source = new FileByteSource(path);
  try {
    return use(source);
  } finally {
    source.close();
  }
}
