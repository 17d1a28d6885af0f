/**
 * How a worker of a TimedWorkerPool says it has started a task (the task's time limit runs from
 * then, not while it waits in the queue): one message on the worker's own channel to the pool,
 * carrying the task's id and an optional payload (a parse worker sends the file size, which
 * extends the limit). Cheaper than a MessageChannel per task, whose creation and transfer cost
 * the event loop tens of microseconds per task. A separate module: workers import it without
 * loading the pool.
 */
import { parentPort } from 'node:worker_threads';

/** What every timed task carries. */
export interface TimedTask {
  /** Unique within its pool (TimedWorkerPool numbers them). */
  readonly taskId: number;
}

/** The message's key (a pool ignores other messages). */
export const TASK_STARTED = 'dicomqlTaskStarted';

export interface TaskStartedMessage {
  readonly [TASK_STARTED]: number;
  readonly payload: unknown;
}

/** Tells the pool that this worker started `task` (a no-op outside a worker: tests run tasks inline). */
export function announceStart(task: TimedTask, payload: unknown = 0): void {
  parentPort?.postMessage({ [TASK_STARTED]: task.taskId, payload } satisfies TaskStartedMessage);
}

export function isTaskStarted(message: unknown): message is TaskStartedMessage {
  return typeof message === 'object' && message !== null && TASK_STARTED in message && typeof (message as Record<string, unknown>)[TASK_STARTED] === 'number';
}
