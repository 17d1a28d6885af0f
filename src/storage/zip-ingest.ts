/**
 * One uploaded file in, one outcome per stored (or rejected) DICOM file out. A ZIP archive is
 * recognised by its signature (a DICOM file with "DICM" at byte 128 is DICOM whatever its
 * preamble holds), copied to DATA_DIR/tmp (random access to its central directory), checked
 * against the archive limits and unpacked one entry at a time, each entry going through the same
 * ingest as a single upload. Outcomes are reported as they happen (`onOutcome`), in order.
 * Every file is stored as the owner's given with the call (`forOwner(userId)` binds it).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, ArchiveError, FileTooLargeError } from '../errors.js';
import type { DicomIngest, IngestResult } from './dicom-ingest.js';
import { isZipUpload, ZipReader } from './zip-reader.js';

/** Which upload (and which archive entry) an outcome is about. */
export interface UploadSource {
  /** The uploaded file's name as the client sent it. */
  readonly filename: string;
  /** Path of the entry inside the uploaded ZIP archive; null for a plain file. */
  readonly archiveEntry: string | null;
  /** 0-based position of the uploaded file in the request. */
  readonly index: number;
}

export type UploadOutcome =
  | { readonly ok: true; readonly source: UploadSource; readonly result: IngestResult }
  | { readonly ok: false; readonly source: UploadSource; readonly error: AppError };

export interface UploadInput {
  readonly filename: string;
  /** A fresh stream of the upload's bytes from the start (may be called more than once). */
  readonly open: () => Readable;
  /**
   * Resolves once the multipart parser has spooled the whole upload to a file, with its path
   * (null when unknown: `open` is read instead); rejects as `open` throws when the upload failed
   * (e.g. past its size limit). A spooled upload is digested and validated by a worker and its
   * file adopted by the blob store: the event loop never reads it.
   */
  readonly spooled?: () => Promise<string | null>;
}

export interface ArchiveOptions {
  /** DATA_DIR/tmp: swept at start, so a crash leaves nothing behind. */
  readonly tempDir: string;
  readonly maxUploadBytes: number;
  readonly maxArchiveBytes: number;
  readonly maxZipRatio: number;
}

/** How many more files this request may store (MAX_FILES_PER_REQUEST, counted down). */
export interface FileBudget {
  remaining: number;
}

/** Uploads stored as one user's files: UploadIngest.forOwner(userId). */
export interface OwnerUploadIngest {
  readonly owner: number;
  ingestUpload(input: UploadInput, index: number, budget: FileBudget, single: boolean, onOutcome?: (outcome: UploadOutcome) => void): Promise<UploadOutcome[]>;
}

export class UploadIngest {
  constructor(
    private readonly ingest: DicomIngest,
    private readonly options: ArchiveOptions,
  ) {}

  /** The same ingest, storing every file as `owner`'s (calls go through `ingestUpload`, so wrappers of it see them). */
  forOwner(owner: number): OwnerUploadIngest {
    return { owner, ingestUpload: (input, index, budget, single, onOutcome) => this.ingestUpload(owner, input, index, budget, single, onOutcome) };
  }

  /**
   * Stores one upload as `owner`'s files (users.id). `single` (uploadDicom): an archive must hold exactly one file, else one
   * ArchiveError ARCHIVE_NEEDS_BATCH and nothing is stored. Expected failures (AppError) are
   * outcomes; anything else is thrown.
   */
  async ingestUpload(
    owner: number,
    input: UploadInput,
    index: number,
    budget: FileBudget,
    single: boolean,
    onOutcome: (outcome: UploadOutcome) => void = () => {},
  ): Promise<UploadOutcome[]> {
    const outcomes: UploadOutcome[] = [];
    const report = (o: UploadOutcome) => {
      outcomes.push(o);
      onOutcome(o);
    };
    const source: UploadSource = { filename: input.filename, archiveEntry: null, index };
    const inspect = this.ingest.inspect;
    if (input.spooled && inspect) {
      let path: string | null;
      try {
        path = await input.spooled();
      } catch (err) {
        path = null; // the upload failed (size limit, disconnect): reported below as a streamed upload reports it
        if (!(err instanceof AppError) && !isTooLarge(err)) throw err;
      }
      if (path !== null) {
        const inspection = await inspect(path);
        if (inspection.kind === 'archive') {
          await this.ingestArchive(owner, input, index, budget, single, report);
          return outcomes;
        }
        if (!this.spend(budget, source, report)) return outcomes;
        const spooledPath = path;
        report(await this.settle(source, () => this.ingest.ingestSpooled(owner, spooledPath, inspection, input.filename)));
        return outcomes;
      }
    }
    const head = await readHead(input.open, 132);
    if (head !== null && isZipUpload(head)) {
      await this.ingestArchive(owner, input, index, budget, single, report);
      return outcomes;
    }
    if (!this.spend(budget, source, report)) return outcomes;
    report(await this.settle(source, () => this.ingest.ingest(owner, input.open, input.filename)));
    return outcomes;
  }

  /** Takes one file from the request's budget; false (and a TOO_MANY_FILES outcome) when it is spent. */
  private spend(budget: FileBudget, source: UploadSource, report: (o: UploadOutcome) => void): boolean {
    if (budget.remaining < 1) {
      report({ ok: false, source, error: new ArchiveError('TOO_MANY_FILES', 'this request already stored MAX_FILES_PER_REQUEST files') });
      return false;
    }
    budget.remaining -= 1;
    return true;
  }

  private async ingestArchive(owner: number, input: UploadInput, index: number, budget: FileBudget, single: boolean, report: (o: UploadOutcome) => void): Promise<void> {
    const archiveSource: UploadSource = { filename: input.filename, archiveEntry: null, index };
    const path = join(this.options.tempDir, `${randomUUID()}.zip`);
    let reader: ZipReader | undefined;
    try {
      try {
        await copyLimited(input.open, path, this.options.maxUploadBytes);
        reader = await ZipReader.open(path, {
          maxEntryBytes: this.options.maxUploadBytes,
          maxArchiveBytes: this.options.maxArchiveBytes,
          maxRatio: this.options.maxZipRatio,
          maxEntries: single ? Math.max(1, budget.remaining) : budget.remaining,
        });
      } catch (err) {
        return report(this.failure(archiveSource, err));
      }
      const entries = reader.entries;
      if (entries.length === 0) {
        return report({ ok: false, source: archiveSource, error: new ArchiveError('INVALID_ARCHIVE', 'the archive holds no files') });
      }
      if (single && entries.length !== 1) {
        return report({
          ok: false,
          source: archiveSource,
          error: new ArchiveError(
            'ARCHIVE_NEEDS_BATCH',
            `the archive holds ${entries.length} files; uploadDicom stores an archive of exactly one file — send it to uploadDicoms, which unpacks every entry`,
          ),
        });
      }
      budget.remaining -= entries.length;
      let inflated = 0;
      for (const entry of entries) {
        const source: UploadSource = { filename: input.filename, archiveEntry: entry.name, index };
        inflated += entry.uncompressedSize;
        // Declared sizes were summed at open; the inflated bytes are counted per entry as they stream.
        if (inflated > this.options.maxArchiveBytes) {
          report({ ok: false, source, error: new ArchiveError('ARCHIVE_TOO_LARGE', `the archive inflates past ${this.options.maxArchiveBytes} bytes (MAX_ARCHIVE_BYTES)`) });
          continue;
        }
        const stream = await reader.openEntry(entry).catch((err: unknown) => err as Error);
        if (stream instanceof Error) {
          report(this.failure(source, stream));
          continue;
        }
        report(await this.settle(source, () => this.ingest.ingest(owner, () => stream, entry.name)));
      }
    } finally {
      reader?.close();
      await rm(path, { force: true });
    }
  }

  private async settle(source: UploadSource, run: () => Promise<IngestResult>): Promise<UploadOutcome> {
    try {
      return { ok: true, source, result: await run() };
    } catch (err) {
      return this.failure(source, err);
    }
  }

  private failure(source: UploadSource, err: unknown): UploadOutcome {
    if (err instanceof AppError) return { ok: false, source, error: err };
    if (isTooLarge(err)) return { ok: false, source, error: new FileTooLargeError(this.options.maxUploadBytes) };
    throw err;
  }
}

/** graphql-upload-ts reports its size limit as an error with HTTP status 413. */
function isTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 413;
}

/** The first `n` bytes (fewer when the upload is shorter), or null when they cannot be read. */
async function readHead(open: () => Readable, n: number): Promise<Uint8Array | null> {
  let stream: Readable;
  try {
    stream = open();
  } catch {
    return null; // e.g. the upload already failed its size limit: the ingest reports that
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      length += buf.length;
      if (length >= n) break;
    }
  } catch {
    return null;
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** Copies the upload to `path`, failing with FileTooLargeError past `maxBytes`. */
async function copyLimited(open: () => Readable, path: string, maxBytes: number): Promise<void> {
  let seen = 0;
  try {
    await pipeline(
      open(),
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          seen += chunk.length;
          if (seen > maxBytes) throw new FileTooLargeError(maxBytes);
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'wx' }),
    );
  } catch (err) {
    if (isTooLarge(err)) throw new FileTooLargeError(maxBytes);
    throw err;
  }
}
