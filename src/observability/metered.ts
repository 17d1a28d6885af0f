/** Counts uploads and times renders without the storage and render layers knowing about metrics. */
import type { RenderPool } from '../render/render-pool.js';
import type { UploadIngest, UploadOutcome } from '../storage/zip-ingest.js';
import type { Metrics } from './metrics.js';

export function meterUploads(uploads: UploadIngest, metrics: Metrics): void {
  const ingestUpload = uploads.ingestUpload.bind(uploads);
  uploads.ingestUpload = (owner, input, index, budget, single, onOutcome = () => {}) =>
    ingestUpload(owner, input, index, budget, single, (outcome: UploadOutcome) => {
      if (outcome.ok) {
        metrics.uploads.inc({ result: outcome.result.duplicate ? 'duplicate' : 'stored' });
        metrics.uploadedBytes.inc(outcome.result.file.byteSize);
      } else {
        metrics.uploads.inc({ result: outcome.error.code });
      }
      onOutcome(outcome);
    });
}

export function meterRenders(pool: RenderPool, metrics: Metrics): void {
  const render = pool.render.bind(pool);
  pool.render = async (job, signal) => {
    const stop = metrics.renderDuration.startTimer();
    try {
      const png = await render(job, signal);
      stop({ result: 'ok' });
      return png;
    } catch (err) {
      stop({ result: signal?.aborted ? 'aborted' : ((err as { code?: unknown }).code as string | undefined) ?? 'error' });
      throw err;
    }
  };
}
