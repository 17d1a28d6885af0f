/**
 * DicomFile's place in the catalog (series, study, patient, versions) and the root connection
 * `dicomFiles`. Kept apart from dicom-file.ts (the file and its attributes) and added to the same
 * type with builder.objectFields.
 */
import { dicomDateToIso } from '../dicom/instance-summary.js';
import { builder } from './builder.js';
import { DicomFileFilterInput, DicomFileOrderInput, fileFilter, orderOr } from './catalog-inputs.js';
import { DicomFileConnection, PatientRef, SeriesRef, StudyRef, toConnection } from './catalog-refs.js';
import { DicomFileRef } from './dicom-file.js';

builder.objectFields(DicomFileRef, (t) => ({
  instanceNumber: t.int({ nullable: true, description: '(0020,0013).', resolve: (f) => f.instanceNumber }),
  contentDate: t.string({ nullable: true, description: '(0008,0023) as DICOM DA "YYYYMMDD".', resolve: (f) => f.contentDate }),
  contentDateIso: t.field({ type: 'LocalDate', nullable: true, description: 'contentDate as "YYYY-MM-DD".', resolve: (f) => dicomDateToIso(f.contentDate) }),
  isCurrentVersion: t.boolean({
    description:
      'False when a newer upload with other bytes and the same SOP Instance UID (in the same series) replaced this file; the file stays reachable by id.',
    resolve: (f) => f.isCurrent,
  }),
  versions: t.field({
    type: [DicomFileRef],
    description: 'Every stored version of this instance (this file included), newest first.',
    resolve: (f, _args, ctx) => ctx.files.catalog.versionsOf(f),
  }),
  series: t.field({
    type: SeriesRef,
    nullable: true,
    description: 'Null only for a file stored before the catalog existed, until the server has indexed it again at start.',
    resolve: (f, _args, ctx) => (f.seriesRef === null ? null : (ctx.files.catalog.series(f.seriesRef) ?? null)),
  }),
  study: t.field({
    type: StudyRef,
    nullable: true,
    resolve: (f, _args, ctx) => (f.studyRef === null ? null : (ctx.files.catalog.study(f.studyRef) ?? null)),
  }),
  patient: t.field({
    type: PatientRef,
    nullable: true,
    resolve: (f, _args, ctx) => (f.patientRef === null ? null : (ctx.files.catalog.patient(f.patientRef) ?? null)),
  }),
}));

builder.queryField('dicomFiles', (t) =>
  t.connection(
    {
      type: DicomFileRef,
      description: 'Stored files (current versions unless filter.includeAllVersions), filtered and sorted; default order UPLOADED_AT DESC.',
      args: {
        filter: t.arg({ type: DicomFileFilterInput, required: false }),
        orderBy: t.arg({ type: DicomFileOrderInput, required: false }),
      },
      resolve: (_root, args, ctx) =>
        toConnection(ctx.files.catalog.listFiles(fileFilter(args.filter), orderOr(args.orderBy, { field: 'UPLOADED_AT', direction: 'DESC' }), args)),
    },
    DicomFileConnection,
  ),
);
