/**
 * Random access to the bytes of one DICOM file or data set. The dicom layer reads through this
 * interface so it stays pure: storage supplies a file-backed source, tests an in-memory one.
 */
export interface ByteSource {
  /** Total number of bytes. */
  readonly size: number;
  /**
   * Bytes [offset, offset + length), clamped to the end of the source (a shorter result means the
   * source ended). The returned view may share memory with the source: do not modify it.
   */
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes already in memory. */
export class BufferByteSource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.size);
    return this.bytes.subarray(start, Math.min(this.size, start + Math.max(0, length)));
  }
}
