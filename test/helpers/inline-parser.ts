/** The parse worker's task run inline (no thread): an UploadParser for storage-level tests. */
import { MessageChannel } from 'node:worker_threads';
import parse from '../../src/parse/parse-worker.js';
import type { UploadParser } from '../../src/storage/dicom-ingest.js';

export const inlineParser: UploadParser = async (path) => {
  const { port1, port2 } = new MessageChannel();
  port2.close();
  const outcome = parse({ path, maxInflatedBytes: 1e8, maxInflateRatio: 200, started: port1 });
  if (!outcome.ok) throw new Error('archive' in outcome ? 'a ZIP archive' : outcome.message);
  return outcome.parsed;
};
