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
import { FileTooLargeError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { DicomFileRepository } from './dicom-files.js';
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
  ) {}

  /** The same ingest, storing every file as `owner`'s. */
  forOwner(owner: number): OwnerDicomIngest {
    return { owner, ingest: (open, filename) => this.ingest(owner, open, filename) };
  }

  /**
   * Stores an upload as `owner`'s file (users.id). `open` gives the upload's bytes; it may throw
   * (or the stream fail) when the upload hit its size limit. `spooledPath`: where the multipart
   * parser spools those bytes (BlobStore.write may adopt that file rather than copy it).
   */
  async ingest(owner: number, open: () => Readable, filename: string, spooledPath?: () => string | null): Promise<IngestResult> {
    const files = this.files.forOwner(owner);
    const temp = await Promise.resolve()
      .then(() => {
        const input = open();
        return this.blobs.write(input, this.maxUploadBytes, spooledPath?.());
      })
      .catch((err: unknown) => {
        throw isUploadTooLarge(err) ? new FileTooLargeError(this.maxUploadBytes) : err;
      });
    try {
      const existing = files.findBySha256(temp.sha256);
      if (existing) return { file: existing, duplicate: true };

      const parsed = await this.parse(temp.path);

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
    } finally {
      await temp.discard();
    }
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
