/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses 1000 WAL pages, on the connection that committed: it copies the WAL into the database
 * file and fsyncs both (synchronous = NORMAL syncs the WAL before a checkpoint and the database
 * file after it), on the event loop, every few dozen uploads — the largest disk wait left on the
 * main thread once commits no longer fsync (db.ts, wal-sync.ts).
 *
 * With a checkpointer, the main connection's automatic checkpoints are off (wal_autocheckpoint =
 * 0) and a worker thread with a connection of its own runs PASSIVE checkpoints on a timer: they
 * never wait for (or block) the writer or readers, copy every frame no reader still needs, and do
 * their fsyncs in the worker. The writer restarts the WAL from its beginning once a checkpoint
 * has copied all of it (one WAL header sync on the main thread per restart, by SQLite).
 *
 * Durability is unchanged: a checkpoint only moves frames that are committed into the database
 * file, with the same syncs SQLite's own checkpoint does.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The worker: CommonJS source (eval), so that it runs the same from src (tsx) and dist. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message || err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'checkpoint') checkpoint();
  else if (m === 'close') {
    clearInterval(timer);
    try { db.close(); } catch {}
    parentPort.close();
  }
});
`;

export interface CheckpointResult {
  readonly ok: boolean;
  /** WAL frames, and how many of them are in the database file now (PRAGMA wal_checkpoint). */
  readonly log?: number;
  readonly checkpointed?: number;
  readonly busy?: number;
  readonly error?: string;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private checkpoints = 0;
  private readonly listeners = new Set<(r: CheckpointResult) => void>();

  constructor(
    /** The database file (its -wal sits beside it). */
    file: string,
    options: { intervalMs?: number; onError?: (err: Error) => void } = {},
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // No execArgv: the worker is plain CommonJS and must not inherit a loader (tsx in development).
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { file, driver, intervalMs: options.intervalMs ?? 1000 } });
    this.worker.unref();
    this.worker.on('message', (r: CheckpointResult) => {
      this.checkpoints++;
      if (!r.ok) options.onError?.(new Error(`WAL checkpoint failed: ${r.error}`));
      for (const listener of this.listeners) listener(r);
    });
    this.worker.on('error', (err) => options.onError?.(err));
  }

  /** A checkpoint now (tests); resolves with its result. */
  checkpointNow(): Promise<CheckpointResult> {
    return new Promise((resolve) => {
      const listener = (r: CheckpointResult) => {
        this.listeners.delete(listener);
        resolve(r);
      };
      this.listeners.add(listener);
      this.worker.postMessage('checkpoint');
    });
  }

  /** Checkpoints run so far. */
  count(): number {
    return this.checkpoints;
  }

  /**
   * Stops the timer and closes the worker's connection; resolves once the worker has exited (so
   * that nothing touches the database files after the main connection closes). A worker that does
   * not exit within `graceMs` is terminated.
   */
  close(graceMs = 5000): Promise<void> {
    return new Promise<void>((resolve) => {
      const kill = setTimeout(() => void this.worker.terminate(), graceMs);
      kill.unref();
      this.worker.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      this.worker.postMessage('close');
    });
  }
}
