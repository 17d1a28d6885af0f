/**
 * What the event loop sends a parse worker and what comes back: a path and limits in, plain data
 * out (the fields the ingest stores), or a typed error as data.
 */
import type { TimedTask } from '../workers/task-start.js';
import type { FileDigest, ParsedUpload } from '../storage/dicom-ingest.js';

export type { FileDigest, ParsedUpload };

export interface ParseJob {
  /** Path of the (temp) file to validate. */
  readonly path: string;
  /** Cap on the inflated size of a deflated data set. */
  readonly maxInflatedBytes: number;
  /** Largest inflated/deflated ratio of a deflated data set over 1 MiB inflated: deflate bombs. */
  readonly maxInflateRatio: number;
  /**
   * Read the whole file first for its digest (SHA-256, size, first bytes), which comes back with
   * the outcome; a ZIP archive is then not parsed (`archive`). The start announcement carries the
   * file's size (the pool extends the time limit by it).
   */
  readonly digest?: boolean;
}

/** The job with its pool's task id (the worker announces its start with it: src/workers/task-start.ts). */
export interface ParseTask extends ParseJob, TimedTask {}

export type ParseOutcome =
  | { readonly ok: true; readonly parsed: ParsedUpload; readonly digest?: FileDigest }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly httpStatus: number; readonly digest?: FileDigest }
  /** A digest job's file is a ZIP archive (no "DICM" at 128, a ZIP signature at 0): not parsed. */
  | { readonly ok: false; readonly archive: true; readonly digest: FileDigest };
