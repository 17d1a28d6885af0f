/**
 * Accepting an upload: stream to a temp blob (hashing on the way), dedupe by content, validate
 * the whole byte stream and read the header, then make the blob durable and only then write the
 * row. Any failure leaves nothing behind.
 *
 * Every stored file is its uploader's: dedupe is per owner (the same bytes stored again by the
 * same user answer the existing record; another user's upload of them gets a record of its own,
 * sharing the one content-addressed blob). Another user's copy never shortcuts the upload — it is
 * validated like any new file — so the answer and its timing do not tell what others stored.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { InstanceSummary } from '../dicom/instance-summary.js';
import { type AppError, FileTooLargeError } from '../errors.js';
import type { BlobStore, TempBlob } from './blob-store.js';
import type { DicomFileRepository, OwnerFileRepository } from './dicom-files.js';
import type { DicomFileRow } from './schema.js';

export interface IngestResult {
  readonly file: DicomFileRow;
  /** The same bytes were already stored: this is the existing record. */
  readonly duplicate: boolean;
}

/**
 * Validates the file at a path: walk, header parse and summary (ParsePool: in a worker with a time
 * and memory limit, never on the event loop); throws InvalidDicomError when the file is rejected.
 */
/** What the ingest stores of a validated file (the parse pool's answer; src/parse). */
export interface ParsedUpload {
  readonly summary: InstanceSummary;
  readonly declaredTransferSyntaxUid: string | null;
  readonly hasPixelData: boolean;
  readonly pixelDataVr: string | null;
  readonly pixelDataLength: number | null;
  readonly pixelDataEncapsulated: boolean | null;
  readonly headerEnd: number;
}

export type UploadParser = (path: string) => Promise<ParsedUpload>;

/** SHA-256, size and first bytes of a whole file, read once (by a parse worker: src/parse/file-digest.ts). */
export interface FileDigest {
  /** Lower-case hex SHA-256 of every byte of the file. */
  readonly sha256: string;
  readonly byteSize: number;
  /** The first 132 bytes (fewer for a shorter file): preamble + "DICM", or a ZIP signature. */
  readonly head: Uint8Array;
}

/** What a worker found in an uploaded file: its digest, and a DICOM file's parse, or that it is a ZIP archive, or why it is rejected. */
export type Inspection =
  | { readonly kind: 'dicom'; readonly digest: FileDigest; readonly parsed: ParsedUpload }
  | { readonly kind: 'archive'; readonly digest: FileDigest }
  /** `digest` is null when the worker was stopped (time or memory limit) before returning one. */
  | { readonly kind: 'rejected'; readonly digest: FileDigest | null; readonly error: AppError };

/** Digests and validates the file at a path off the event loop; AppErrors come back as `rejected`. */
export type UploadInspector = (path: string) => Promise<Inspection>;

/** Uploads stored as one user's files: DicomIngest.forOwner(userId). */
export interface OwnerDicomIngest {
  readonly owner: number;
  ingest(open: () => Readable, filename: string): Promise<IngestResult>;
}

export class DicomIngest {
  constructor(
    private readonly blobs: BlobStore,
    private readonly files: DicomFileRepository,
    private readonly maxUploadBytes: number,
    private readonly parse: UploadParser,
    /** Digest + validation of a spooled upload in one worker task (ingestSpooled). */
    readonly inspect?: UploadInspector,
  ) {}

  /** The same ingest, storing every file as `owner`'s. */
  forOwner(owner: number): OwnerDicomIngest {
    return { owner, ingest: (open, filename) => this.ingest(owner, open, filename) };
  }

  /**
   * Stores an upload as `owner`'s file (users.id). `open` gives the upload's bytes; it may throw
   * (or the stream fail) when the upload hit its size limit. The bytes are hashed as they stream
   * to a temp blob (ZIP entries, uploads whose spool file is unknown).
   */
  async ingest(owner: number, open: () => Readable, filename: string): Promise<IngestResult> {
    const files = this.files.forOwner(owner);
    const temp = await Promise.resolve()
      .then(() => this.blobs.write(open(), this.maxUploadBytes))
      .catch((err: unknown) => {
        throw isUploadTooLarge(err) ? new FileTooLargeError(this.maxUploadBytes) : err;
      });
    try {
      const existing = files.findBySha256(temp.sha256);
      if (existing) return { file: existing, duplicate: true };
      return await this.store(files, temp, await this.parse(temp.path), filename);
    } finally {
      await temp.discard();
    }
  }

  /**
   * Stores as `owner`'s file an upload the multipart parser has spooled whole to `path`, which an
   * UploadInspector has digested and validated (`inspection`, not an archive). The event loop does
   * not read the bytes: the blob store adopts the spool file (a hard link, else one copy).
   */
  async ingestSpooled(owner: number, path: string, inspection: Inspection, filename: string): Promise<IngestResult> {
    if (inspection.kind === 'archive') throw new Error('ingestSpooled: a ZIP archive is unpacked by UploadIngest');
    const { digest } = inspection;
    if (digest && digest.byteSize > this.maxUploadBytes) throw new FileTooLargeError(this.maxUploadBytes);
    const files = this.files.forOwner(owner);
    // As for a streamed upload: the owner's copy of the same bytes answers before validation.
    const existing = digest ? files.findBySha256(digest.sha256) : undefined;
    if (existing) return { file: existing, duplicate: true };
    if (inspection.kind === 'rejected') throw inspection.error;
    const temp = this.blobs.adopt(path, inspection.digest.sha256, inspection.digest.byteSize);
    try {
      return await this.store(files, temp, inspection.parsed, filename);
    } finally {
      await temp.discard();
    }
  }

  /** Makes the blob durable under its content address, then inserts its row (answered once that commit is durable). */
  private async store(files: OwnerFileRepository, temp: TempBlob, parsed: ParsedUpload, filename: string): Promise<IngestResult> {
    await temp.commit();
    // Group commit: answered once the transaction holding the row has committed.
    return await files.insertDurably({
      id: randomUUID(),
      sha256: temp.sha256,
      filename: cleanFilename(filename),
      byteSize: temp.byteSize,
      uploadedAt: new Date(),
      transferSyntaxUid: parsed.declaredTransferSyntaxUid,
      ...parsed.summary,
      hasPixelData: parsed.hasPixelData,
      pixelDataVr: parsed.pixelDataVr,
      pixelDataLength: parsed.pixelDataLength,
      pixelDataEncapsulated: parsed.pixelDataEncapsulated,
      headerEnd: parsed.headerEnd,
    });
  }
}

/** graphql-upload-ts reports its size limit as an error with HTTP status 413. */
function isUploadTooLarge(err: unknown): boolean {
  return err instanceof FileTooLargeError || (typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 413);
}

/**
 * The client's name is metadata only, never a path, so it is kept as sent ("../x.dcm" included);
 * control characters are dropped and the length capped so that it stays printable.
 */
export function cleanFilename(name: string | undefined): string {
  const printable = (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 1024);
  return printable === '' ? 'unnamed' : printable;
}
