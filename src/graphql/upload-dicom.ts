/**
 * The upload mutations and their result union:
 *
 * - `uploadDicom(file)`: one result. A ZIP archive holding exactly one file is unpacked and gives
 *   that file's result; any other archive gives an ArchiveError (ARCHIVE_NEEDS_BATCH) pointing to
 *   `uploadDicoms`, and nothing is stored — the mutation keeps its one-file, one-result contract.
 * - `uploadDicoms(files)`: one result per file, in order, a ZIP archive contributing one result
 *   per entry (in archive order) in its place. Files are stored one after another; a bad file (or
 *   entry) is a typed result and does not fail the others.
 *
 * Every result says which upload (and archive entry) it is about (`source`).
 */
import type { FileUpload } from 'graphql-upload-ts';
import { type AppError, ArchiveError, FileTooLargeError, InvalidDicomError } from '../errors.js';
import type { IngestResult } from '../storage/dicom-ingest.js';
import type { UploadInput, UploadOutcome, UploadSource } from '../storage/zip-ingest.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { DicomFileRef } from './dicom-file.js';
import { ErrorInterface } from './error-types.js';
import { spooledFile } from './upload-spool.js';

type UploadSuccess = IngestResult & { readonly source: UploadSource };
type UploadResult = UploadSuccess | AppError;

/**
 * Where an error result came from, kept on the error itself (a fresh AppError per upload): the
 * errors plugin hands field resolvers a proxy of it, which forwards property reads.
 */
const SOURCE = Symbol('uploadSource');
type SourcedError = AppError & { [SOURCE]?: UploadSource };

const UploadSourceRef = builder.objectRef<UploadSource>('UploadSource').implement({
  description: 'Which uploaded file (and which entry of an uploaded ZIP archive) a result is about.',
  fields: (t) => ({
    filename: t.exposeString('filename', { description: 'The uploaded file\'s name as sent (for an archive entry: the archive\'s name).' }),
    archiveEntry: t.exposeString('archiveEntry', {
      nullable: true,
      description: 'Path of the entry inside the uploaded ZIP archive, as written there (metadata only); null for a plain file.',
    }),
    index: t.exposeInt('index', { description: '0-based position of the uploaded file among the request\'s files.' }),
  }),
});

const UploadDicomSuccess = builder.objectRef<UploadSuccess>('UploadDicomSuccess').implement({
  description: 'The file is stored (or was already: the same bytes from the same user give the same DicomFile).',
  fields: (t) => ({
    file: t.field({ type: DicomFileRef, resolve: (r) => r.file }),
    duplicate: t.exposeBoolean('duplicate', { description: 'True when this user had already stored identical bytes (other users\' files are never seen).' }),
    // Nullable like the error types' `source`: GraphQL requires one shape for a field name across a union.
    source: t.field({ type: UploadSourceRef, nullable: true, description: 'The upload (and archive entry) this result is about.', resolve: (r) => r.source }),
  }),
});

builder.objectType(ArchiveError, {
  name: 'ArchiveError',
  description:
    'A ZIP archive (or one entry of it) that was not unpacked; `code` says why: INVALID_ARCHIVE (unreadable, encrypted or unsupported entry, sizes that lie), ARCHIVE_TOO_LARGE (over MAX_ARCHIVE_BYTES or MAX_ZIP_RATIO: a zip bomb), TOO_MANY_FILES (over MAX_FILES_PER_REQUEST), ARCHIVE_NEEDS_BATCH (uploadDicom got an archive of several files: use uploadDicoms). Nothing it names was stored.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ArchiveError,
});

for (const type of [InvalidDicomError, FileTooLargeError, ArchiveError] as const) {
  builder.objectField(type, 'source', (t) =>
    t.field({
      type: UploadSourceRef,
      nullable: true,
      description: 'The upload (and archive entry) this result is about (set on every upload result).',
      resolve: (e) => (e as SourcedError)[SOURCE] ?? null,
    }),
  );
}

// An error union: the errors plugin lets resolvers return the AppError instances as results
// (graphql-js would otherwise treat a returned Error as a field error), in lists too.
const UploadDicomResult = builder.errorUnion('UploadDicomResult', {
  types: [UploadDicomSuccess, InvalidDicomError, FileTooLargeError, ArchiveError],
  resolveType: () => 'UploadDicomSuccess',
});

function toResult(outcome: UploadOutcome): UploadResult {
  if (outcome.ok) return { ...outcome.result, source: outcome.source };
  (outcome.error as SourcedError)[SOURCE] = outcome.source;
  return outcome.error;
}

function inputOf(upload: FileUpload): UploadInput {
  // 256 KiB reads (the default is 16 KiB) when the upload is read as a stream (ZIP archives, no spool path).
  return { filename: upload.filename, open: () => upload.createReadStream({ highWaterMark: 256 * 1024 }), spooled: () => spooledFile(upload) };
}

/** Announces each new file once its row is committed (subscriptions.ts); audits every stored file, duplicates too. */
function publisher(ctx: Context) {
  return (outcome: UploadOutcome) => {
    if (outcome.ok) ctx.audit.record('UPLOAD', outcome.result.file.id);
    if (outcome.ok && !outcome.result.duplicate) ctx.events.publish('dicomFile:added', outcome.result.file);
  };
}

builder.mutationField('uploadDicom', (t) =>
  t.field({
    type: UploadDicomResult,
    description:
      'Upload one DICOM file (GraphQL multipart request; send the header `apollo-require-preflight: true`). A ZIP archive of exactly one file is unpacked; an archive of several gives ArchiveError ARCHIVE_NEEDS_BATCH (use uploadDicoms).',
    args: { file: t.arg({ type: 'Upload', required: true }) },
    resolve: async (_root, { file }, ctx) => {
      const upload = await file;
      const outcomes = await ctx.uploads.ingestUpload(inputOf(upload), 0, { remaining: ctx.maxFilesPerRequest }, true, publisher(ctx));
      return toResult(outcomes[0]!);
    },
  }),
);

builder.mutationField('uploadDicoms', (t) =>
  t.field({
    type: [UploadDicomResult],
    description:
      'Upload several DICOM files and/or ZIP archives in one multipart request: one result per file, in order, an archive giving one result per entry in its place (OS litter such as __MACOSX/, dot files and DICOMDIR is skipped). At most MAX_FILES_PER_REQUEST files and entries in all.',
    args: { files: t.arg({ type: ['Upload'], required: true }) },
    resolve: async (_root, { files }, ctx) => {
      const budget = { remaining: ctx.maxFilesPerRequest };
      const results: UploadResult[] = [];
      // One after another: each file streams to disk and is committed before the next starts.
      for (const [index, file] of files.entries()) {
        const upload = await file;
        const outcomes = await ctx.uploads.ingestUpload(inputOf(upload), index, budget, false, publisher(ctx));
        results.push(...outcomes.map(toResult));
      }
      return results;
    },
  }),
);
