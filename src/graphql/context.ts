import type { DicomFileRepository } from '../storage/dicom-files.js';
import type { DicomIngest } from '../storage/dicom-ingest.js';
import type { HeaderCache } from '../storage/header-cache.js';

/** What every resolver gets; built per request by src/http. */
export interface Context {
  readonly files: DicomFileRepository;
  readonly headers: HeaderCache;
  readonly ingest: DicomIngest;
  /** Base of absolute URLs in answers (PUBLIC_URL, else the request's origin), no trailing slash. */
  readonly baseUrl: string;
}
