/**
 * A bounded piscina pool whose tasks have a time limit that starts when a worker picks the task
 * up (not while it waits in the queue): the worker announces the start (src/workers/task-start.ts),
 * and past the limit the task is aborted, which terminates its worker (piscina starts a fresh
 * one). Shared by the render and parse pools, which map the failures below to their own errors.
 */
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isTaskStarted, type TimedTask } from './task-start.js';


/** The task ran longer than the limit; its worker was terminated. */
export class WorkerTimeoutError extends Error {}
/** The worker exhausted its heap limit. */
export class WorkerOutOfMemoryError extends Error {}
/** The queue is at its limit. */
export class WorkerQueueFullError extends Error {}

export interface TimedWorkerPoolOptions {
  /** import.meta.url of the module beside which the worker file lives. */
  readonly moduleUrl: string;
  /** Worker file name without extension, e.g. "render-worker". */
  readonly worker: string;
  readonly workers: number;
  readonly timeoutMs: number;
  readonly maxQueue?: number;
  readonly resourceLimits?: ResourceLimits;
  /** Workers kept running while idle (default 1; 0: the first task after a quiet minute starts one). */
  readonly warmWorkers?: number;
  /** More time for a task, from the payload its worker announces when it starts (e.g. a file size). */
  readonly extraTimeMs?: (started: unknown) => number;
}

/**
 * The worker module beside `moduleUrl`: `<name>.js` when running compiled (dist/), or `<name>.ts`
 * when running from sources (tsx, vitest), in which case the worker thread loads TypeScript
 * through tsx's loader (a devDependency, present wherever sources run).
 */
export function workerEntry(moduleUrl: string, name: string): { filename: string; execArgv?: string[] } {
  const here = fileURLToPath(moduleUrl);
  if (extname(here) === '.ts') {
    const tsx = pathToFileURL(createRequire(moduleUrl).resolve('tsx')).href;
    return { filename: join(dirname(here), `${name}.ts`), execArgv: ['--import', tsx] };
  }
  return { filename: join(dirname(here), `${name}.js`) };
}

export class TimedWorkerPool<Task extends TimedTask, Outcome> {
  private readonly pool: Piscina<Task, Outcome>;
  /** Tasks running or queued, by id: called when their worker announces the start. */
  private readonly starts = new Map<number, (payload: unknown) => void>();
  private lastTaskId = 0;

  constructor(private readonly options: TimedWorkerPoolOptions) {
    const entry = workerEntry(options.moduleUrl, options.worker);
    this.pool = new Piscina<Task, Outcome>({
      filename: entry.filename,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
      // Warm workers (default one) answer the first task without a start-up delay; more start
      // under load and retire after a minute idle.
      minThreads: options.warmWorkers ?? 1,
      maxThreads: options.workers,
      idleTimeout: 60_000,
      ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    // A worker's own messages (not task results): the start announcements of src/workers/task-start.ts.
    this.pool.on('message', (message: unknown) => {
      if (isTaskStarted(message)) this.starts.get(message.dicomqlTaskStarted)?.(message.payload);
    });
  }

  /** Runs one task; rejects with WorkerTimeoutError, WorkerOutOfMemoryError, WorkerQueueFullError or the caller's abort reason. */
  async run(task: Omit<Task, 'taskId'>, signal?: AbortSignal): Promise<Outcome> {
    signal?.throwIfAborted();
    const abort = new AbortController();
    const onCallerAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    const taskId = ++this.lastTaskId;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    let limitMs = this.options.timeoutMs;
    this.starts.set(taskId, (payload) => {
      this.starts.delete(taskId);
      limitMs += Math.max(0, this.options.extraTimeMs?.(payload) ?? 0);
      timer = setTimeout(() => {
        timedOut = true;
        abort.abort(new WorkerTimeoutError(`task exceeded ${limitMs} ms`));
      }, limitMs);
    });
    try {
      return await this.pool.run({ ...task, taskId } as Task, { signal: abort.signal });
    } catch (err) {
      if (timedOut) throw new WorkerTimeoutError(`task exceeded ${limitMs} ms`);
      if (err instanceof Error && /queue is at limit/i.test(err.message)) throw new WorkerQueueFullError(err.message);
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw new WorkerOutOfMemoryError('worker out of memory');
      throw err;
    } finally {
      clearTimeout(timer);
      this.starts.delete(taskId);
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  get queueSize(): number {
    return this.pool.queueSize;
  }

  get workerCount(): number {
    return this.pool.threads.length;
  }

  get utilization(): number {
    return this.pool.utilization;
  }

  /** Terminates the workers; tasks still running are rejected. */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}
