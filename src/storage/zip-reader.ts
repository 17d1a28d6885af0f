/**
 * Reading an uploaded ZIP archive from a file on disk (yauzl: random access to the central
 * directory, one entry inflated at a time, nothing held whole in memory), with the limits that
 * stop zip bombs checked twice: on the sizes the central directory declares, before anything is
 * inflated, and on the bytes actually inflated, while they stream.
 *
 * Entry names are metadata only: they are never used as paths ("../x.dcm" and "/etc/x" are
 * accepted and kept as names), so yauzl's own name validation is off and names are decoded here.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ArchiveError, FileTooLargeError } from '../errors.js';

export interface ZipLimits {
  /** Largest uncompressed entry (MAX_UPLOAD_BYTES): larger ones give FileTooLargeError. */
  readonly maxEntryBytes: number;
  /** Uncompressed bytes of all entries together (MAX_ARCHIVE_BYTES). */
  readonly maxArchiveBytes: number;
  /** Largest uncompressed/compressed ratio of an entry over RATIO_FLOOR bytes (MAX_ZIP_RATIO). */
  readonly maxRatio: number;
  /** Entries that may be unpacked (what MAX_FILES_PER_REQUEST leaves for this archive). */
  readonly maxEntries: number;
}

/** Entries this small are not ratio-checked: a blank image compresses 1000:1 and harms no one. */
export const RATIO_FLOOR = 1024 * 1024;

/** Stored (0) and deflated (8): what yauzl inflates. */
const SUPPORTED_METHODS = new Set([0, 8]);

export interface ZipEntry {
  /** The entry's path inside the archive, as written (metadata only). */
  readonly name: string;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
  /** Set when this entry cannot be unpacked (encrypted, unsupported method, too large); the others still are. */
  readonly error: ArchiveError | FileTooLargeError | null;
  /** yauzl's entry, for openEntry. */
  readonly raw: Entry;
}

/**
 * Operating-system litter and media indexes, skipped without a result: directories, macOS
 * resource forks (`__MACOSX/`, `._x`), dot files (`.DS_Store`), `Thumbs.db`, `desktop.ini`, and
 * `DICOMDIR` (a DICOM file, but an index of the media rather than an instance).
 */
export function isSkippedEntry(name: string): boolean {
  if (name.endsWith('/') || name.endsWith('\\')) return true;
  const parts = name.split(/[\\/]/);
  const base = parts.at(-1) ?? '';
  return base === '' || parts.includes('__MACOSX') || base.startsWith('.') || /^(thumbs\.db|desktop\.ini|dicomdir)$/i.test(base);
}

/**
 * An upload to unpack rather than store: a ZIP signature at byte 0 and no "DICM" at byte 128 (a
 * DICOM file is DICOM whatever its preamble holds). `head`: the upload's first 132 bytes, or fewer.
 */
export function isZipUpload(head: Uint8Array): boolean {
  const dicm = head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d;
  return !dicm && looksLikeZip(head);
}

/** "PK\x03\x04" (a local file header) or "PK\x05\x06" (an empty archive's end record). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

function invalid(err: unknown): ArchiveError {
  if (err instanceof ArchiveError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // yauzl's own count of inflated bytes (validateEntrySizes)
  if (/too many bytes/i.test(message)) return new ArchiveError('ARCHIVE_TOO_LARGE', `an entry inflates past its declared size: ${message}`);
  return new ArchiveError('INVALID_ARCHIVE', `not a readable ZIP archive: ${message}`);
}

export class ZipReader {
  private constructor(
    private readonly zip: ZipFile,
    readonly entries: readonly ZipEntry[],
  ) {}

  /**
   * Opens the archive and reads its central directory, checking the declared sizes against
   * `limits` (ArchiveError for the whole archive: ARCHIVE_TOO_LARGE, TOO_MANY_FILES,
   * INVALID_ARCHIVE). Entries that break a per-entry rule carry their own error.
   */
  static async open(path: string, limits: ZipLimits): Promise<ZipReader> {
    let zip: ZipFile;
    try {
      zip = await yauzl.openPromise(path, { autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false });
    } catch (err) {
      throw invalid(err);
    }
    // Failures reach callers through the promises below; an 'error' event must not crash the process.
    zip.on('error', () => {});
    try {
      // The end record's count, before reading anything else: litter may double it, no more.
      if (zip.entryCount > limits.maxEntries * 4 + 100) {
        throw new ArchiveError('TOO_MANY_FILES', `the archive has ${zip.entryCount} entries; this request may store at most ${limits.maxEntries} files`);
      }
      const entries: ZipEntry[] = [];
      let declared = 0;
      for await (const raw of zip.eachEntry()) {
        const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, raw.fileNameRaw, raw.extraFields, false);
        if (isSkippedEntry(name)) continue;
        if (entries.length >= limits.maxEntries) {
          throw new ArchiveError('TOO_MANY_FILES', `the archive holds more than ${limits.maxEntries} files, the most this request may store`);
        }
        const { uncompressedSize, compressedSize } = raw;
        if (uncompressedSize > RATIO_FLOOR && uncompressedSize / Math.max(1, compressedSize) > limits.maxRatio) {
          throw new ArchiveError(
            'ARCHIVE_TOO_LARGE',
            `entry ${JSON.stringify(name)} inflates ${compressedSize} bytes to ${uncompressedSize} (ratio over ${limits.maxRatio}): rejected as a zip bomb`,
          );
        }
        let error: ZipEntry['error'] = null;
        if (raw.isEncrypted()) error = new ArchiveError('INVALID_ARCHIVE', `entry ${JSON.stringify(name)} is encrypted`);
        else if (!SUPPORTED_METHODS.has(raw.compressionMethod)) {
          error = new ArchiveError('INVALID_ARCHIVE', `entry ${JSON.stringify(name)} uses compression method ${raw.compressionMethod}; only stored (0) and deflated (8) are read`);
        } else if (uncompressedSize > limits.maxEntryBytes) error = new FileTooLargeError(limits.maxEntryBytes);
        else declared += uncompressedSize;
        if (declared > limits.maxArchiveBytes) {
          throw new ArchiveError('ARCHIVE_TOO_LARGE', `the archive's entries declare more than ${limits.maxArchiveBytes} uncompressed bytes (MAX_ARCHIVE_BYTES)`);
        }
        entries.push({ name, uncompressedSize, compressedSize, error, raw });
      }
      return new ZipReader(zip, entries);
    } catch (err) {
      zip.close();
      throw err instanceof ArchiveError ? err : invalid(err);
    }
  }

  /**
   * The entry's bytes, inflated as they are read. The stream fails with an ArchiveError when the
   * data is corrupt or inflates to more (or fewer) bytes than declared: the count is made here,
   * whatever the library checks.
   */
  async openEntry(entry: ZipEntry): Promise<Readable> {
    if (entry.error) throw entry.error;
    let inflated: Readable;
    try {
      inflated = await this.zip.openReadStreamPromise(entry.raw);
    } catch (err) {
      throw invalid(err);
    }
    const counter = new CountingStream(entry);
    inflated.on('error', (err) => counter.destroy(invalid(err)));
    counter.once('close', () => inflated.destroy());
    return inflated.pipe(counter);
  }

  close(): void {
    this.zip.close();
  }
}

/** Passes bytes through, failing once more than the declared size arrives, or fewer at the end. */
class CountingStream extends Transform {
  private seen = 0;
  constructor(private readonly entry: ZipEntry) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.entry.uncompressedSize) {
      return done(new ArchiveError('ARCHIVE_TOO_LARGE', `entry ${JSON.stringify(this.entry.name)} inflates past its declared ${this.entry.uncompressedSize} bytes`));
    }
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    if (this.seen !== this.entry.uncompressedSize) {
      return done(new ArchiveError('INVALID_ARCHIVE', `entry ${JSON.stringify(this.entry.name)} inflates to ${this.seen} bytes, not the declared ${this.entry.uncompressedSize}`));
    }
    done();
  }
}
