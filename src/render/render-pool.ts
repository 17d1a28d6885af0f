/**
 * The bounded pool of render workers (piscina): decoding, the LUT pipeline and PNG encoding never
 * run on the event loop. At most RENDER_WORKERS renders run at once, at most RENDER_QUEUE wait
 * (past it: RenderBusyError), and a render that runs longer than RENDER_TIMEOUT_MS has its worker
 * terminated (RenderTimeoutError; piscina starts a fresh one). The time limit runs from the moment
 * a worker starts the render, not while it waits in the queue.
 */
import { AppError, RenderBusyError, RenderOutOfMemoryError, RenderTimeoutError } from '../errors.js';
import { TimedWorkerPool, WorkerOutOfMemoryError, WorkerQueueFullError, WorkerTimeoutError } from '../workers/timed-worker-pool.js';
import type { RenderedPng, RenderJob, RenderOutcome, RenderTask } from './render-task.js';

export interface RenderPoolOptions {
  readonly workers: number;
  readonly timeoutMs: number;
  readonly maxQueue: number;
  /** V8 heap limits of each worker (MiB): a crafted file exhausts its worker, not the server. */
  readonly maxOldGenerationSizeMb?: number;
  readonly maxYoungGenerationSizeMb?: number;
}

export class RenderPool {
  private readonly pool: TimedWorkerPool<RenderTask, RenderOutcome>;
  private completed = 0;
  private timedOut = 0;

  constructor(private readonly options: RenderPoolOptions) {
    this.pool = new TimedWorkerPool<RenderTask, RenderOutcome>({
      moduleUrl: import.meta.url,
      worker: 'render-worker',
      workers: options.workers,
      timeoutMs: options.timeoutMs,
      maxQueue: options.maxQueue,
      // No render worker while nothing renders (≈ 30 MB each): a server that only takes uploads
      // keeps its memory for them; the first image after a quiet minute waits for a worker to start.
      warmWorkers: 0,
      resourceLimits: {
        ...(options.maxOldGenerationSizeMb !== undefined ? { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb } : {}),
        ...(options.maxYoungGenerationSizeMb !== undefined ? { maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb } : {}),
      },
    });
  }

  /** Renders one frame in a worker; AppErrors thrown there are rethrown here with their code and status. */
  async render(job: RenderJob, signal?: AbortSignal): Promise<RenderedPng> {
    let outcome: RenderOutcome;
    try {
      outcome = await this.pool.run(job, signal);
    } catch (err) {
      if (err instanceof WorkerTimeoutError) {
        this.timedOut++;
        throw new RenderTimeoutError(this.options.timeoutMs);
      }
      if (err instanceof WorkerQueueFullError) throw new RenderBusyError();
      if (err instanceof WorkerOutOfMemoryError) throw new RenderOutOfMemoryError(this.options.maxOldGenerationSizeMb ?? 0);
      throw err;
    }
    this.completed++;
    if (!outcome.ok) throw new AppError(outcome.code, outcome.message, outcome.httpStatus);
    return { png: Buffer.from(outcome.png.buffer, outcome.png.byteOffset, outcome.png.byteLength), width: outcome.width, height: outcome.height };
  }

  /** Counts for tests and monitoring (no file names, ids or patient data). */
  stats(): { renders: number; timeouts: number; queued: number; workers: number; utilization: number } {
    return {
      renders: this.completed,
      timeouts: this.timedOut,
      queued: this.pool.queueSize,
      workers: this.pool.workerCount,
      utilization: this.pool.utilization,
    };
  }

  /** Terminates the workers; renders still running are rejected. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
