/**
 * The bounded pool of parse workers (piscina): validating an upload — walking its structure,
 * parsing its header and summarizing it — runs in a worker thread with a time limit
 * (PARSE_TIMEOUT_MS: past it the worker is terminated and piscina starts a fresh one) and a heap
 * limit (PARSE_MAX_HEAP_MB), so that a crafted file can neither stall the event loop nor exhaust
 * the server's memory. Either limit gives an InvalidDicomError: the file is rejected, nothing is
 * stored. The time limit runs from the moment a worker starts the parse, not while it waits.
 */
import { AppError, InvalidDicomError } from '../errors.js';
import { TimedWorkerPool, WorkerOutOfMemoryError, WorkerTimeoutError } from '../workers/timed-worker-pool.js';
import type { Inspection } from '../storage/dicom-ingest.js';
import type { ParsedUpload, ParseOutcome, ParseTask } from './parse-task.js';

/**
 * Reading speed granted to a digest (whole-file read and SHA-256) on top of the parse's time
 * limit: the limit is for crafted structures, not for large files on slow disks.
 */
const DIGEST_BYTES_PER_MS = 50_000;

export interface ParsePoolOptions {
  readonly workers: number;
  readonly timeoutMs: number;
  /** V8 old-generation heap limit of each worker, MiB. */
  readonly maxHeapMb: number;
  /** Cap on the inflated size of a deflated data set. */
  readonly maxInflatedBytes: number;
  /** Largest inflated/deflated ratio of a deflated data set (over 1 MiB): deflate bombs. */
  readonly maxInflateRatio: number;
}

export class ParsePool {
  private readonly pool: TimedWorkerPool<ParseTask, ParseOutcome>;
  private timedOut = 0;
  private outOfMemory = 0;

  constructor(private readonly options: ParsePoolOptions) {
    this.pool = new TimedWorkerPool<ParseTask, ParseOutcome>({
      moduleUrl: import.meta.url,
      worker: 'parse-worker',
      workers: options.workers,
      timeoutMs: options.timeoutMs,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, Math.floor(options.maxHeapMb / 8))) },
      // A digest job's worker announces the file size when it starts.
      extraTimeMs: (started) => (typeof started === 'number' ? started / DIGEST_BYTES_PER_MS : 0),
    });
  }

  /**
   * Digests (SHA-256, size, first bytes) and validates the file at `path` in one worker task: the
   * event loop never reads the file. A ZIP archive is recognised and not parsed; a rejected file
   * comes back as its AppError (with its digest unless the worker was stopped).
   */
  async inspect(path: string): Promise<Inspection> {
    let outcome: ParseOutcome;
    try {
      outcome = await this.run(path, true);
    } catch (err) {
      if (err instanceof AppError) return { kind: 'rejected', digest: null, error: err };
      throw err;
    }
    return inspectionOf(outcome);
  }

  /** Validates the file at `path` in a worker; throws InvalidDicomError (or another AppError) when it is rejected. */
  async parse(path: string): Promise<ParsedUpload> {
    const outcome = await this.run(path, false);
    if (outcome.ok) return outcome.parsed;
    if ('archive' in outcome) throw new Error('parse worker answered a parse job as a digest job');
    throw appError(outcome);
  }

  /** One task; the pool's timeouts and memory exhaustion become InvalidDicomError. */
  private async run(path: string, digest: boolean): Promise<ParseOutcome> {
    try {
      return await this.pool.run({ path, maxInflatedBytes: this.options.maxInflatedBytes, maxInflateRatio: this.options.maxInflateRatio, ...(digest ? { digest } : {}) });
    } catch (err) {
      if (err instanceof WorkerTimeoutError) {
        this.timedOut++;
        throw new InvalidDicomError(`parsing took longer than the server's limit of ${this.options.timeoutMs} ms and was stopped`);
      }
      if (err instanceof WorkerOutOfMemoryError) {
        this.outOfMemory++;
        throw new InvalidDicomError(`parsing needed more memory than the server's limit of ${this.options.maxHeapMb} MiB and was stopped`);
      }
      throw err;
    }
  }

  /** Counts for tests and monitoring. */
  stats(): { timeouts: number; outOfMemory: number; workers: number } {
    return { timeouts: this.timedOut, outOfMemory: this.outOfMemory, workers: this.pool.workerCount };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** What a digest job's outcome says about the file. */
export function inspectionOf(outcome: ParseOutcome): Inspection {
  if (outcome.ok) {
    if (!outcome.digest) throw new Error('parse worker returned no digest');
    return { kind: 'dicom', digest: outcome.digest, parsed: outcome.parsed };
  }
  if ('archive' in outcome) return { kind: 'archive', digest: outcome.digest };
  return { kind: 'rejected', digest: outcome.digest ?? null, error: appError(outcome) };
}

/** The typed error a worker returned as data. */
function appError(outcome: { readonly code: string; readonly message: string; readonly httpStatus: number }): AppError {
  if (outcome.code === 'INVALID_DICOM') return new InvalidDicomError(outcome.message);
  return new AppError(outcome.code, outcome.message, outcome.httpStatus);
}
