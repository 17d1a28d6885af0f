import type { Readable } from 'node:stream';
import type { ByteSource } from '../dicom/byte-source.js';

/** A blob written to a temporary place, hashed on the way, not yet visible under its final name. */
export interface TempBlob {
  readonly sha256: string;
  readonly byteSize: number;
  /** Path of the temp file, for a worker that validates it by path (until commit or discard). */
  readonly path: string;
  /** Makes the blob durable under its content address (idempotent when it already exists). */
  commit(): Promise<void>;
  /** Removes the temp file (an adopted file is left to its owner); safe to call after commit or twice. */
  discard(): Promise<void>;
}

/** Content-addressed storage of original DICOM bytes (the embedded default is LocalBlobStore). */
export interface BlobStore {
  /** Streams `input` to a temp blob, hashing it; rejects with FileTooLargeError past `maxBytes`. */
  write(input: Readable, maxBytes: number): Promise<TempBlob>;
  /**
   * A finished file that holds exactly the bytes of `sha256` (the multipart parser's spool file,
   * digested by a worker) as a temp blob: commit() gives it its content address by a hard link
   * (one copy when the file is on another file system), never writing the bytes again. The store
   * never removes `path` itself: its owner (the multipart parser) does.
   */
  adopt(path: string, sha256: string, byteSize: number): TempBlob;
  /** Random access to a committed blob; the caller closes it. */
  open(sha256: string): ByteSource & { close(): void };
  /** Bytes [0, length) of a committed blob. */
  readPrefix(sha256: string, length: number): Promise<Uint8Array>;
  exists(sha256: string): Promise<boolean>;
  /**
   * Removes a committed blob unless `isReferenced()` says a row still names it or an upload of
   * the same bytes is between its commit and its row insert (that upload keeps the blob).
   * `isReferenced` is asked synchronously right before the unlink. True when the blob was removed.
   */
  removeUnreferenced(sha256: string, isReferenced: () => boolean): boolean;
}
