/**
 * What the event loop sends a render worker and what comes back. Only small values cross the
 * thread boundary: the worker opens the blob itself (no file bytes are posted), and the PNG comes
 * back as a transferred buffer.
 */
import type { TimedTask } from '../workers/task-start.js';

export interface RenderJob {
  /** Path of the stored blob. */
  readonly path: string;
  /** Content hash (the worker's header cache key). */
  readonly sha256: string;
  /** Bytes [0, headerEnd) hold every element before Pixel Data (from the index). */
  readonly headerEnd: number;
  /** 1-based frame. */
  readonly frame: number;
  readonly window?: { readonly center: number; readonly width: number };
  readonly maxSize?: number;
  readonly bitDepth: 8 | 16;
}

/** The job with its pool's task id (the worker announces its start with it: src/workers/task-start.ts). */
export interface RenderTask extends RenderJob, TimedTask {}

export interface RenderedPng {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
}

/** AppErrors travel as plain data (a structured clone drops an Error's class and fields). */
export type RenderOutcome =
  | { readonly ok: true; readonly png: Uint8Array; readonly width: number; readonly height: number }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly httpStatus: number };
