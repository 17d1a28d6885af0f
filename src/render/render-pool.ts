/**
 * The bounded pool of render workers (piscina): decoding, the LUT pipeline and PNG encoding never
 * run on the event loop. At most RENDER_WORKERS renders run at once, at most RENDER_QUEUE wait
 * (past it: RenderBusyError), and a render that runs longer than RENDER_TIMEOUT_MS has its worker
 * terminated (RenderTimeoutError; piscina starts a fresh one). The time limit runs from the moment
 * a worker starts the render, not while it waits in the queue.
 */
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AppError, RenderBusyError, RenderOutOfMemoryError, RenderTimeoutError } from '../errors.js';
import type { RenderedPng, RenderJob, RenderOutcome, RenderTask } from './render-task.js';

export interface RenderPoolOptions {
  readonly workers: number;
  readonly timeoutMs: number;
  readonly maxQueue: number;
  /** V8 heap limits of each worker (MiB): a crafted file exhausts its worker, not the server. */
  readonly maxOldGenerationSizeMb?: number;
  readonly maxYoungGenerationSizeMb?: number;
}

/**
 * The worker module beside this one: render-worker.js when running compiled (dist/), or
 * render-worker.ts when running from sources (tsx, vitest), in which case the worker thread
 * loads TypeScript through tsx's loader (a devDependency, present wherever sources run).
 */
export function workerEntry(moduleUrl: string = import.meta.url, name = 'render-worker'): { filename: string; execArgv?: string[] } {
  const here = fileURLToPath(moduleUrl);
  if (extname(here) === '.ts') {
    const tsx = pathToFileURL(createRequire(moduleUrl).resolve('tsx')).href;
    return { filename: join(dirname(here), `${name}.ts`), execArgv: ['--import', tsx] };
  }
  return { filename: join(dirname(here), `${name}.js`) };
}

export class RenderPool {
  private readonly pool: Piscina<RenderTask, RenderOutcome>;
  private completed = 0;
  private timedOut = 0;

  constructor(private readonly options: RenderPoolOptions) {
    const entry = workerEntry();
    this.pool = new Piscina<RenderTask, RenderOutcome>({
      filename: entry.filename,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
      // One warm worker answers the first request without a start-up delay; more start under load
      // and retire after a minute idle.
      minThreads: 1,
      maxThreads: options.workers,
      idleTimeout: 60_000,
      maxQueue: options.maxQueue,
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      resourceLimits: {
        ...(options.maxOldGenerationSizeMb !== undefined ? { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb } : {}),
        ...(options.maxYoungGenerationSizeMb !== undefined ? { maxYoungGenerationSizeMb: options.maxYoungGenerationSizeMb } : {}),
      },
    });
  }

  /** Renders one frame in a worker; AppErrors thrown there are rethrown here with their code and status. */
  async render(job: RenderJob, signal?: AbortSignal): Promise<RenderedPng> {
    signal?.throwIfAborted();
    const abort = new AbortController();
    const onCallerAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const { port1, port2 } = new MessageChannel();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    port1.once('message', () => {
      port1.close();
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort(new RenderTimeoutError(this.options.timeoutMs));
      }, this.options.timeoutMs);
    });
    let outcome: RenderOutcome;
    try {
      outcome = await this.pool.run({ ...job, started: port2 }, { transferList: [port2], signal: abort.signal });
    } catch (err) {
      if (timedOut) {
        this.timedOut++;
        throw new RenderTimeoutError(this.options.timeoutMs);
      }
      if (err instanceof Error && /queue is at limit/i.test(err.message)) throw new RenderBusyError();
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw new RenderOutOfMemoryError(this.options.maxOldGenerationSizeMb ?? 0);
      throw err;
    } finally {
      clearTimeout(timer);
      port1.close();
      signal?.removeEventListener('abort', onCallerAbort);
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
      workers: this.pool.threads.length,
      utilization: this.pool.utilization,
    };
  }

  /** Terminates the workers; renders still running are rejected. */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}
