/**
 * One load measurement: autocannon (programmatic) over loopback with fixed connections and
 * duration. Latencies are recorded from autocannon's per-response event at full precision
 * (its own histogram has 1 ms resolution, too coarse for sub-millisecond floors).
 */
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { quantile } from './stats.js';

// autocannon appends every response body to a string (`body += chunk`), which decodes binary
// bodies as UTF-8: on a 95 KB PNG that caps the load generator itself near 700 req/s on a 2-core
// machine. That is how issue 6's floors (and so its targets) were measured, so it stays the
// default; with leanClient (--lean-client) bodies are only kept while a measurement verifies them,
// which shows what the servers themselves can do.
let keepBodies = true;
let leanClient = false;

/** --lean-client: do not decode response bodies that no check reads. */
export function setLeanClient(on: boolean): void {
  leanClient = on;
}
const Queue = createRequire(import.meta.url)('autocannon/lib/pipelinedRequestsQueue.js') as { prototype: { addBody(data: Buffer): void } };
const addBody = Queue.prototype.addBody;
Queue.prototype.addBody = function (this: unknown, data: Buffer) {
  if (keepBodies) addBody.call(this, data);
};

export interface LoadSpec {
  /** Origin, e.g. http://127.0.0.1:4000. */
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  /** autocannon requests (one with setupRequest to feed a new URL or body each time). */
  readonly requests: autocannon.Request[];
  /** The status every answer must have (others count as failures). */
  readonly expectStatus: number;
  /** A check of each answer body (failures counted as mismatches). */
  readonly verifyBody?: (body: string) => boolean;
}

export interface LoadResult {
  readonly requests: number;
  readonly reqPerSec: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Answers with another status, connection errors, timeouts and body mismatches. */
  readonly failures: number;
  readonly statusCodes: Record<string, number>;
  /** CPU time (all threads) the answering process used per answered request, ms (main.ts measures it). */
  readonly cpuMsPerRequest?: number;
  /** The same for the process's main thread (its event loop) only. */
  readonly mainThreadCpuMsPerRequest?: number;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    keepBodies = !leanClient || spec.verifyBody !== undefined;
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSec,
        timeout: 60,
        requests: spec.requests,
        ...(spec.verifyBody ? { verifyBody: spec.verifyBody } : {}),
      },
      (err, result) => {
        if (err) return reject(err);
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
        const good = statusCodes[String(spec.expectStatus)] ?? 0;
        const answered = Object.values(statusCodes).reduce((a, b) => a + b, 0);
        latencies.sort((a, b) => a - b);
        resolve({
          requests: answered,
          reqPerSec: answered / result.duration,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
          failures: answered - good + result.errors + result.timeouts + result.mismatches,
          statusCodes,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
  });
}

/** A request that takes the next of `paths` each time (shared by all connections; wraps around). */
export function rotatingGets(paths: readonly string[], headers: Record<string, string> = {}): { request: autocannon.Request; used: () => number } {
  let next = 0;
  const request: autocannon.Request = {
    method: 'GET',
    headers,
    setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length]! }),
  };
  return { request, used: () => next };
}
