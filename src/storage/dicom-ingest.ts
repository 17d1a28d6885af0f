/**
 * Accepting an upload: stream to a temp blob (hashing on the way), dedupe by content, validate
 * the whole byte stream and read the header, then make the blob durable and only then write the
 * row. Any failure leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parseHeader } from '../dicom/header.js';
import { summarizeInstance } from '../dicom/instance-summary.js';
import { type PixelDataLocation, scanDicom } from '../dicom/scan.js';
import { FileTooLargeError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { DicomFileRepository } from './dicom-files.js';
import type { DicomFileRow } from './schema.js';

export interface IngestResult {
  readonly file: DicomFileRow;
  /** The same bytes were already stored: this is the existing record. */
  readonly duplicate: boolean;
}

export class DicomIngest {
  constructor(
    private readonly blobs: BlobStore,
    private readonly files: DicomFileRepository,
    private readonly maxUploadBytes: number,
  ) {}

  /** `open` gives the upload's bytes; it may throw (or the stream fail) when the upload hit its size limit. */
  async ingest(open: () => Readable, filename: string): Promise<IngestResult> {
    const temp = await Promise.resolve()
      .then(() => this.blobs.write(open(), this.maxUploadBytes))
      .catch((err: unknown) => {
        throw isUploadTooLarge(err) ? new FileTooLargeError(this.maxUploadBytes) : err;
      });
    try {
      const existing = this.files.findBySha256(temp.sha256);
      if (existing) return { file: existing, duplicate: true };

      const source = temp.open();
      let header: ReturnType<typeof parseHeader>;
      try {
        const structure = scanDicom(source);
        header = parseHeader(source, structure);
      } finally {
        source.close();
      }
      const { structure } = header;
      const summary = summarizeInstance(header.dataset, structure.pixelData !== null);

      await temp.commit();
      return this.files.insertOrGetExisting({
        id: randomUUID(),
        sha256: temp.sha256,
        filename: cleanFilename(filename),
        byteSize: temp.byteSize,
        uploadedAt: new Date(),
        transferSyntaxUid: structure.declaredTransferSyntaxUid,
        ...summary,
        hasPixelData: structure.pixelData !== null,
        pixelDataVr: structure.pixelData?.vr ?? null,
        pixelDataLength: structure.pixelData ? pixelDataSpan(structure.pixelData) : null,
        pixelDataEncapsulated: structure.pixelData ? structure.pixelData.length === null : null,
        headerEnd: structure.headerEnd,
      });
    } finally {
      await temp.discard();
    }
  }
}

/** Bytes the Pixel Data value spans: its length, or for encapsulated data every item up to the sequence delimiter. */
function pixelDataSpan(px: PixelDataLocation): number {
  if (px.length !== null) return px.length;
  const last = px.fragments?.at(-1);
  const end = last ? last.offset + last.length : px.valueOffset + 8 + 4 * (px.offsetTable?.length ?? 0);
  return end + 8 - px.valueOffset;
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
