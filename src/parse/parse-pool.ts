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
import type { ParsedUpload, ParseOutcome, ParseTask } from './parse-task.js';

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
    });
  }

  /** Validates the file at `path` in a worker; throws InvalidDicomError (or another AppError) when it is rejected. */
  async parse(path: string): Promise<ParsedUpload> {
    let outcome: ParseOutcome;
    try {
      outcome = await this.pool.run({ path, maxInflatedBytes: this.options.maxInflatedBytes, maxInflateRatio: this.options.maxInflateRatio });
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
    if (!outcome.ok) {
      if (outcome.code === 'INVALID_DICOM') throw new InvalidDicomError(outcome.message);
      throw new AppError(outcome.code, outcome.message, outcome.httpStatus);
    }
    return outcome.parsed;
  }

  /** Counts for tests and monitoring. */
  stats(): { timeouts: number; outOfMemory: number; workers: number } {
    return { timeouts: this.timedOut, outOfMemory: this.outOfMemory, workers: this.pool.workerCount };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
