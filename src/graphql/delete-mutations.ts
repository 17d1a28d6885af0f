/**
 * deleteDicomFile, deleteSeries, deleteStudy, deletePatient. The catalog repository removes the
 * rows (and the series, studies and patients left empty) in one transaction and names the blobs
 * no row references any more; only after that commit is on disk (the WAL sync: a power loss can no
 * longer bring the rows back) are those blobs removed, the parsed-header and PNG caches forgotten,
 * `dicomFileDeleted` published and the client answered. A removed id answers null (GraphQL)
 * and 404 (routes) from then on.
 *
 * A FileDeletions is made per request around the caller's catalog (deletes reach only the
 * caller's rows: another user's id is NOT_FOUND like a missing one), while a blob is removed only
 * when no row of any user names it any more.
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { NotFoundError } from '../errors.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { CatalogDeleteResult } from '../storage/catalog.js';
import type { DicomFileRepository } from '../storage/dicom-files.js';
import type { HeaderCache } from '../storage/header-cache.js';
import { builder } from './builder.js';
import { ErrorInterface } from './error-types.js';
import type { DicomEvents } from './subscriptions.js';

/** The delete API of one owner's catalog repository (src/storage/catalog.ts). */
export interface CatalogDeletes {
  deleteFile(fileId: string): CatalogDeleteResult | undefined;
  deleteSeries(seriesId: number): CatalogDeleteResult | undefined;
  deleteStudy(studyId: number): CatalogDeleteResult | undefined;
  deletePatient(patientId: number): CatalogDeleteResult | undefined;
}

/** What a delete did, in global ids. */
export interface DeleteSummary {
  readonly deletedIds: readonly string[];
  /** Local ids (dicom_files.id) of the removed files (the audit trail's). */
  readonly deletedFileIds: readonly string[];
  readonly deletedSeriesIds: readonly string[];
  readonly deletedStudyIds: readonly string[];
  readonly deletedPatientIds: readonly string[];
  /** Blobs removed from disk (no row referenced them any more). */
  readonly removedBlobs: number;
}

export interface FileDeletionsDeps {
  /** The caller's catalog (DicomFileRepository.forOwner(userId).catalog). */
  readonly catalog: CatalogDeletes;
  /** The root repository: whether any owner's row still names a blob; durable() waits for the commit's WAL sync. */
  readonly files: Pick<DicomFileRepository, 'isBlobReferenced' | 'durable'>;
  readonly blobs: BlobStore;
  readonly headers: HeaderCache;
  readonly events: DicomEvents;
  /** Drops the cached renderings of a content hash (the PNG cache lives in src/render). */
  readonly evictRenderings: (sha256: string) => void;
}

export class FileDeletions {
  constructor(private readonly deps: FileDeletionsDeps) {}

  deleteFile(id: string): Promise<DeleteSummary | undefined> {
    return this.finish(this.deps.catalog.deleteFile(id));
  }

  deleteSeries(id: number): Promise<DeleteSummary | undefined> {
    return this.finish(this.deps.catalog.deleteSeries(id));
  }

  deleteStudy(id: number): Promise<DeleteSummary | undefined> {
    return this.finish(this.deps.catalog.deleteStudy(id));
  }

  deletePatient(id: number): Promise<DeleteSummary | undefined> {
    return this.finish(this.deps.catalog.deletePatient(id));
  }

  /**
   * After the commit, once it is on disk: blobs, caches, events. A blob removed before that could
   * be missing under a row that a power loss brings back.
   */
  private async finish(result: CatalogDeleteResult | undefined): Promise<DeleteSummary | undefined> {
    if (!result) return undefined;
    const { files, blobs, headers, events, evictRenderings } = this.deps;
    await files.durable();
    let removedBlobs = 0;
    for (const sha256 of result.unreferencedBlobs) {
      headers.evict(sha256);
      evictRenderings(sha256);
      // Asked again right before the unlink: an upload of the same bytes may have landed since.
      if (blobs.removeUnreferenced(sha256, () => files.isBlobReferenced(sha256))) removedBlobs++;
    }
    for (const deleted of result.deletedFiles) events.publish('dicomFile:deleted', deleted);
    return {
      deletedIds: result.deletedFiles.map((f) => encodeGlobalID('DicomFile', f.id)),
      deletedFileIds: result.deletedFiles.map((f) => f.id),
      deletedSeriesIds: result.deletedSeriesIds.map((n) => encodeGlobalID('Series', String(n))),
      deletedStudyIds: result.deletedStudyIds.map((n) => encodeGlobalID('Study', String(n))),
      deletedPatientIds: result.deletedPatientIds.map((n) => encodeGlobalID('Patient', String(n))),
      removedBlobs,
    };
  }
}

/** The local id of a global id of `typename`, or undefined when it is not one. */
function localId(id: string | number, typename: string): string | undefined {
  try {
    const decoded = decodeGlobalID(String(id));
    return decoded.typename === typename && decoded.id !== '' ? decoded.id : undefined;
  } catch {
    return undefined;
  }
}

function numericId(id: string | number, typename: string): number | undefined {
  const local = localId(id, typename);
  return local !== undefined && /^\d{1,15}$/.test(local) ? Number(local) : undefined;
}

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'Nothing has this id (never had, or it was deleted); nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
});

const DeleteResultRef = builder.objectRef<DeleteSummary>('DeleteResult').implement({
  description:
    'What a delete removed, committed in one transaction: every stored file in its scope (all versions), and the series, studies and patients left without files. Blobs no file references any more are removed from disk after the commit.',
  fields: (t) => ({
    deletedFiles: t.int({ description: 'Number of files (DicomFile rows) removed.', resolve: (r) => r.deletedIds.length }),
    deletedIds: t.idList({ description: 'Global ids of the removed DicomFiles.', resolve: (r) => [...r.deletedIds] }),
    deletedSeriesIds: t.idList({ description: 'Global ids of series removed because they were left empty.', resolve: (r) => [...r.deletedSeriesIds] }),
    deletedStudyIds: t.idList({ description: 'Global ids of studies removed because they were left empty.', resolve: (r) => [...r.deletedStudyIds] }),
    deletedPatientIds: t.idList({ description: 'Global ids of patients removed because they were left empty.', resolve: (r) => [...r.deletedPatientIds] }),
  }),
});

const DeleteOutcome = builder.errorUnion('DeleteOutcome', {
  description: 'DeleteResult, or NotFoundError for an unknown id.',
  types: [DeleteResultRef, NotFoundError],
  resolveType: () => 'DeleteResult',
});

const scopes = [
  {
    field: 'deleteDicomFile',
    typename: 'DicomFile',
    what: 'file',
    description: 'Delete one stored file (this version; when it was the current version of its instance, the newest remaining version becomes current).',
    run: (d: FileDeletions, id: string | number) => {
      const local = localId(id, 'DicomFile');
      return local === undefined ? undefined : d.deleteFile(local);
    },
  },
  {
    field: 'deleteSeries',
    typename: 'Series',
    what: 'series',
    description: 'Delete a series: every version of every file in it; its study and patient go too when left empty.',
    run: (d: FileDeletions, id: string | number) => {
      const n = numericId(id, 'Series');
      return n === undefined ? undefined : d.deleteSeries(n);
    },
  },
  {
    field: 'deleteStudy',
    typename: 'Study',
    what: 'study',
    description: 'Delete a study: all its series and files; its patient goes too when left empty.',
    run: (d: FileDeletions, id: string | number) => {
      const n = numericId(id, 'Study');
      return n === undefined ? undefined : d.deleteStudy(n);
    },
  },
  {
    field: 'deletePatient',
    typename: 'Patient',
    what: 'patient',
    description: 'Delete a patient: all their studies, series and files.',
    run: (d: FileDeletions, id: string | number) => {
      const n = numericId(id, 'Patient');
      return n === undefined ? undefined : d.deletePatient(n);
    },
  },
] as const;

for (const scope of scopes) {
  builder.mutationField(scope.field, (t) =>
    t.field({
      type: DeleteOutcome,
      description: scope.description,
      args: { id: t.arg.id({ required: true, description: `Global id of the ${scope.typename}.` }) },
      resolve: async (_root, { id }, ctx) => {
        const summary = await scope.run(ctx.deletions, id);
        if (!summary) return new NotFoundError(`No ${scope.what} with id ${String(id)}`);
        // After the commit (FileDeletions returns once it is done): one DELETE per removed file.
        for (const fileId of summary.deletedFileIds) ctx.audit.record('DELETE', fileId);
        return summary;
      },
    }),
  );
}
