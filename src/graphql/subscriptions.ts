/**
 * Live updates: `dicomFileAdded` and `dicomFileDeleted`, served by graphql-yoga over server-sent
 * events (POST or GET /graphql with `accept: text/event-stream`). Events are published by the
 * upload and delete mutations after the database commit, so a subscriber that reacts by querying
 * sees the change. The pub/sub is in-process (one per app): subscribers of this server only.
 * Events carry the file's owner and reach only subscribers acting as that user (ctx.principal).
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createPubSub, filter, pipe } from 'graphql-yoga';
import type { DicomFileRow } from '../storage/schema.js';
import type { DeletedFileRow } from '../storage/catalog.js';
import { builder } from './builder.js';
import { DicomFileRef } from './dicom-file.js';

/** What remains known of a deleted file: enough for a client to drop it from its views. */
export type DeletedDicomFile = DeletedFileRow;

export type DicomEvents = ReturnType<typeof createDicomEvents>;

export function createDicomEvents() {
  return createPubSub<{
    'dicomFile:added': [DicomFileRow];
    'dicomFile:deleted': [DeletedDicomFile];
  }>();
}

export function deletedFile(row: DicomFileRow): DeletedDicomFile {
  return {
    id: row.id,
    ownerRef: row.ownerRef,
    sha256: row.sha256,
    filename: row.filename,
    sopInstanceUid: row.sopInstanceUid,
    seriesInstanceUid: row.seriesInstanceUid,
    studyInstanceUid: row.studyInstanceUid,
  };
}

const DeletedDicomFileRef = builder.objectRef<DeletedDicomFile>('DeletedDicomFile').implement({
  description: 'A file that was deleted: its former global id and where it was in the catalog.',
  fields: (t) => ({
    id: t.id({ description: 'The global id the DicomFile had (no longer resolvable).', resolve: (f) => encodeGlobalID('DicomFile', f.id) }),
    filename: t.exposeString('filename'),
    sha256: t.exposeString('sha256'),
    sopInstanceUid: t.exposeString('sopInstanceUid', { nullable: true }),
    seriesInstanceUid: t.exposeString('seriesInstanceUid', { nullable: true }),
    studyInstanceUid: t.exposeString('studyInstanceUid', { nullable: true }),
  }),
});

builder.subscriptionType({
  description: 'Live updates over server-sent events: send the subscription to /graphql with `accept: text/event-stream`.',
});

builder.subscriptionField('dicomFileAdded', (t) =>
  t.field({
    type: DicomFileRef,
    description: 'A file the viewer stored by any upload (plain, batch or ZIP entry) after this subscription started; duplicates of stored bytes are not new files. Other users\' files never appear.',
    args: { studyInstanceUid: t.arg.string({ required: false, description: 'Only files of this study (0020,000D); omit for every file.' }) },
    subscribe: (_root, { studyInstanceUid }, ctx) =>
      pipe(
        ctx.events.subscribe('dicomFile:added'),
        filter((file: DicomFileRow) => file.ownerRef === ctx.principal.userId && (!studyInstanceUid || file.studyInstanceUid === studyInstanceUid)),
      ),
    resolve: (file) => file,
  }),
);

builder.subscriptionField('dicomFileDeleted', (t) =>
  t.field({
    type: DeletedDicomFileRef,
    description: 'A file removed by a delete mutation (one event per file, also when its series, study or patient is deleted).',
    args: { studyInstanceUid: t.arg.string({ required: false, description: 'Only files of this study (0020,000D); omit for every file.' }) },
    subscribe: (_root, { studyInstanceUid }, ctx) =>
      pipe(
        ctx.events.subscribe('dicomFile:deleted'),
        filter((file: DeletedDicomFile) => file.ownerRef === ctx.principal.userId && (!studyInstanceUid || file.studyInstanceUid === studyInstanceUid)),
      ),
    resolve: (file) => file,
  }),
);
