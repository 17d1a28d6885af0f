/**
 * The parse worker (a piscina task handler, run in a worker thread with a memory limit): walks
 * and parses an uploaded file by path and returns what the ingest stores, as plain data. A crafted
 * file can only cost this thread, which the pool terminates past PARSE_TIMEOUT_MS.
 */
import { parseHeader } from '../dicom/header.js';
import { summarizeInstance } from '../dicom/instance-summary.js';
import { type PixelDataLocation, scanDicom } from '../dicom/scan.js';
import { AppError } from '../errors.js';
import { announceStart } from '../workers/task-start.js';
import { FileByteSource } from '../storage/file-byte-source.js';
import { isZipUpload } from '../storage/zip-reader.js';
import { digestOpenFile, type FileDigest, openForDigest } from './file-digest.js';
import type { ParseOutcome, ParseTask } from './parse-task.js';

/** Bytes the Pixel Data value spans: its length, or for encapsulated data every item up to the sequence delimiter. */
export function pixelDataSpan(px: PixelDataLocation): number {
  if (px.length !== null) return px.length;
  const last = px.fragments?.at(-1);
  const end = last ? last.offset + last.length : px.valueOffset + 8 + 4 * (px.offsetTable?.length ?? 0);
  return end + 8 - px.valueOffset;
}

/** The task handler; AppErrors come back as data. */
export default function parse(job: ParseTask): ParseOutcome {
  let digest: FileDigest | undefined;
  if (job.digest) {
    const file = openForDigest(job.path);
    announceStart(job, file.byteSize);
    try {
      digest = digestOpenFile(file);
    } finally {
      file.close();
    }
    if (isZipUpload(digest.head)) return { ok: false, archive: true, digest };
  } else {
    announceStart(job);
  }
  const withDigest = digest ? { digest } : {};
  try {
    const source = new FileByteSource(job.path);
    try {
      const options = { maxInflatedBytes: job.maxInflatedBytes, maxInflateRatio: job.maxInflateRatio };
      const structure = scanDicom(source, options);
      const header = parseHeader(source, structure, options);
      const px = structure.pixelData;
      return {
        ok: true,
        parsed: {
          summary: summarizeInstance(header.dataset, px !== null),
          declaredTransferSyntaxUid: structure.declaredTransferSyntaxUid,
          hasPixelData: px !== null,
          pixelDataVr: px?.vr ?? null,
          pixelDataLength: px ? pixelDataSpan(px) : null,
          pixelDataEncapsulated: px ? px.length === null : null,
          headerEnd: structure.headerEnd,
        },
        ...withDigest,
      };
    } finally {
      source.close();
    }
  } catch (err) {
    if (err instanceof AppError) return { ok: false, code: err.code, message: err.message, httpStatus: err.httpStatus, ...withDigest };
    throw err;
  }
}

