/**
 * Prometheus metrics (prom-client) on a registry of their own, one per app (tests start several
 * apps in one process). Labels never carry ids, names or other patient data.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PngCacheStats } from '../render/png-cache.js';

export interface RenderStatsSource {
  (): { pool: { renders: number; timeouts: number; queued: number; workers: number; utilization?: number }; cache: PngCacheStats };
}

/** Operation names are chosen by clients: anything unusual is one label value, so a client cannot grow the series without bound. */
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Operation label sets Metrics.operation keeps made (beyond, it makes them per call). */
const MAX_OPERATION_LABEL_SETS = 1000;

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'dicomql_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'dicomql_http_request_duration_seconds',
    help: 'HTTP request latency by route (until the response is finished)',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly graphqlOperations = new Counter({
    name: 'dicomql_graphql_operations_total',
    help: 'GraphQL operations by operation name, type and result (success, error)',
    labelNames: ['operation_name', 'operation_type', 'result'] as const,
    registers: [this.registry],
  });
  readonly graphqlAnswerCache = new Counter({
    name: 'dicomql_graphql_answer_cache_total',
    help: 'GraphQL queries looked up in the answer cache, by result (hit, miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly uploads = new Counter({
    name: 'dicomql_uploads_total',
    help: 'Uploaded files (ZIP entries counted one by one) by result: stored, duplicate or the error code',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly uploadedBytes = new Counter({
    name: 'dicomql_uploaded_bytes_total',
    help: 'Bytes of the files accepted by uploads (stored or duplicate)',
    registers: [this.registry],
  });
  readonly renderDuration = new Histogram({
    name: 'dicomql_render_duration_seconds',
    help: 'Time of one PNG render in the worker pool (queue wait included), by outcome',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'dicomql_rate_limited_total',
    help: 'Requests answered 429 by the per-client rate limit',
    registers: [this.registry],
  });

  constructor(renderStats: RenderStatsSource, headerStats?: () => { hits: number; misses: number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'dicomql_' });
    const registers = [this.registry];
    // Counters kept by the pool and the caches, read at scrape time.
    const counterFrom = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counterFrom('dicomql_png_cache_hits_total', 'PNG renderings answered from the cache', () => renderStats().cache.hits);
    counterFrom('dicomql_png_cache_misses_total', 'PNG renderings started (not in the cache)', () => renderStats().cache.misses);
    counterFrom('dicomql_png_cache_shared_total', 'PNG requests that joined a render already in progress', () => renderStats().cache.shared);
    counterFrom('dicomql_render_timeouts_total', 'Renders stopped by RENDER_TIMEOUT_MS', () => renderStats().pool.timeouts);
    new Gauge({ name: 'dicomql_png_cache_bytes', help: 'Bytes of PNGs in the cache', registers, collect() { this.set(renderStats().cache.bytes); } });
    new Gauge({ name: 'dicomql_render_queue_size', help: 'Renders waiting for a free worker', registers, collect() { this.set(renderStats().pool.queued); } });
    new Gauge({ name: 'dicomql_render_workers', help: 'Render worker threads running', registers, collect() { this.set(renderStats().pool.workers); } });
    new Gauge({
      name: 'dicomql_render_pool_utilization',
      help: 'Share of worker time spent rendering since start (0..1, piscina utilization)',
      registers,
      collect() {
        this.set(renderStats().pool.utilization ?? 0);
      },
    });
    if (headerStats) {
      counterFrom('dicomql_header_cache_hits_total', 'Parsed headers answered from the cache', () => headerStats().hits);
      counterFrom('dicomql_header_cache_misses_total', 'Headers read and parsed', () => headerStats().misses);
    }
  }

  /** Label sets of httpRequests and httpDuration by route, method and status, made once (all three are bounded sets). */
  private readonly requestLabels = new Map<string, { readonly counter: { route: string; method: string; status: string }; readonly histogram: { route: string } }>();

  /** One finished HTTP request: httpRequests and httpDuration. */
  request(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let labels = this.requestLabels.get(key);
    if (labels === undefined) {
      labels = { counter: { route, method, status: String(status) }, histogram: { route } };
      this.requestLabels.set(key, labels);
    }
    this.httpRequests.inc(labels.counter);
    this.httpDuration.observe(labels.histogram, seconds);
  }

  /** Label sets of graphqlOperations by name, type and result, made once (at most MAX_OPERATION_LABEL_SETS kept). */
  private readonly operationLabels = new Map<string, { operation_name: string; operation_type: string; result: string }>();

  operation(name: string | undefined, type: string | undefined, ok: boolean): void {
    const label = name === undefined ? 'anonymous' : OPERATION_NAME.test(name) ? name : 'other';
    const key = `${label} ${type} ${ok}`;
    let labels = this.operationLabels.get(key);
    if (labels === undefined) {
      labels = { operation_name: label, operation_type: type ?? 'unknown', result: ok ? 'success' : 'error' };
      // Operation names are the clients' choice: the label sets kept here stay bounded (the metric's own series do not shrink either way).
      if (this.operationLabels.size < MAX_OPERATION_LABEL_SETS) this.operationLabels.set(key, labels);
    }
    this.graphqlOperations.inc(labels);
  }
}
