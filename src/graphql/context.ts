import type { Principal } from '../auth/principal.js';
import type { AnswerCacheHints } from './answer-cache-hints.js';
import type { ApiTokenRepository } from '../storage/api-tokens.js';
import type { UrlSigner } from '../auth/url-signer.js';
import type { AuditLog, RequestAudit } from '../storage/audit-log.js';
import type { OwnerFileRepository } from '../storage/dicom-files.js';
import type { OwnerDicomIngest } from '../storage/dicom-ingest.js';
import type { HeaderCache } from '../storage/header-cache.js';
import type { OwnerUploadIngest } from '../storage/zip-ingest.js';
import type { FileDeletions } from './delete-mutations.js';
import type { DicomEvents } from './subscriptions.js';

/**
 * What every resolver gets; built per request by src/http. Files, catalog, ingest, uploads and
 * deletions are scoped to `principal.userId`: they see, store and delete that user's files only.
 */
export interface Context {
  readonly files: OwnerFileRepository;
  readonly headers: HeaderCache;
  readonly ingest: OwnerDicomIngest;
  /** Uploads as sent: a DICOM file, or a ZIP archive unpacked entry by entry. */
  readonly uploads: OwnerUploadIngest;
  /** MAX_FILES_PER_REQUEST: multipart files and ZIP entries one request may store. */
  readonly maxFilesPerRequest: number;
  /** Live updates (published after commits; subscriptions.ts). */
  readonly events: DicomEvents;
  /** Deletes: catalog rows in one transaction, then blobs, caches, events (delete-mutations.ts). */
  readonly deletions: FileDeletions;
  /** API tokens (viewer's own: apiTokens, createApiToken, revokeApiToken). */
  readonly apiTokens: ApiTokenRepository;
  /** Who the request acts as (authenticated by src/http before yoga runs). */
  readonly principal: Principal;
  /** The audit trail (audit-events.ts lists it for admins). */
  readonly auditLog: AuditLog;
  /** This request's audit recorder: each (action, file) once per request. */
  readonly audit: RequestAudit;
  /** Base of absolute URLs in answers (PUBLIC_URL, else the request's origin), no trailing slash. */
  readonly baseUrl: string;
  /** Signs companion URLs for the principal (signedUrl() in signed-url.ts). */
  readonly urlSigner: UrlSigner;
  /**
   * Present when the answer may be cached (src/http/graphql-answer-cache.ts): fields whose value
   * can change without a write of the user's files call `uncacheable()` (answer-cache-hints.ts).
   */
  readonly answerCache?: AnswerCacheHints;
}
