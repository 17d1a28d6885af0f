/** The parse worker's task run inline (no thread): an UploadParser and an UploadInspector for storage-level tests. */
import { inspectionOf } from '../../src/parse/parse-pool.js';
import parse from '../../src/parse/parse-worker.js';
import type { UploadInspector, UploadParser } from '../../src/storage/dicom-ingest.js';

function runInline(path: string, digest: boolean) {
  return parse({ path, maxInflatedBytes: 1e8, maxInflateRatio: 200, taskId: 0, ...(digest ? { digest } : {}) });
}

export const inlineParser: UploadParser = async (path) => {
  const outcome = runInline(path, false);
  if (!outcome.ok) throw new Error('archive' in outcome ? 'a ZIP archive' : outcome.message);
  return outcome.parsed;
};

export const inlineInspector: UploadInspector = async (path) => inspectionOf(runInline(path, true));
