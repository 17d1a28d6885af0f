/** Series and its root connection `series`. */
import { builder } from './builder.js';
import { DicomFileFilterInput, DicomFileOrderInput, fileFilter, orderOr, SeriesFilterInput, SeriesOrderInput, seriesFilter } from './catalog-inputs.js';
import { DicomFileConnection, orNull, PatientRef, rowId, SeriesConnection, SeriesRef, StudyRef, toConnection } from './catalog-refs.js';
import { DicomFileRef } from './dicom-file.js';

builder.node(SeriesRef, {
  description:
    'A series: one per (study, Series Instance UID). Attributes are the newest non-empty values among its stored files; numberOfInstances counts current versions.',
  id: { resolve: (s) => s.id },
  loadOne: (id, ctx) => {
    const n = rowId(id);
    return n === undefined ? null : (ctx.files.catalog.series(n) ?? null);
  },
  fields: (t) => ({
    seriesInstanceUid: t.string({ nullable: true, description: '(0020,000E); null for the series holding files without one.', resolve: (s) => orNull(s.seriesInstanceUid) }),
    modality: t.string({ nullable: true, description: '(0008,0060).', resolve: (s) => s.modality }),
    seriesNumber: t.int({ nullable: true, description: '(0020,0011).', resolve: (s) => s.seriesNumber }),
    seriesDescription: t.string({ nullable: true, description: '(0008,103E).', resolve: (s) => s.seriesDescription }),
    bodyPartExamined: t.string({ nullable: true, description: '(0018,0015).', resolve: (s) => s.bodyPartExamined }),
    numberOfInstances: t.int({ description: 'Instances (current versions).', resolve: (s) => s.instanceCount }),
    firstUploadedAt: t.field({ type: 'DateTime', resolve: (s) => s.firstUploadedAt }),
    lastUploadedAt: t.field({ type: 'DateTime', resolve: (s) => s.lastUploadedAt }),
    study: t.field({
      type: StudyRef,
      resolve: (s, _args, ctx) => {
        const study = ctx.files.catalog.study(s.studyRef);
        if (!study) throw new Error(`series ${s.id} has no study ${s.studyRef}`);
        return study;
      },
    }),
    patient: t.field({
      type: PatientRef,
      resolve: (s, _args, ctx) => {
        const patient = ctx.files.catalog.patientOfStudy(s.studyRef);
        if (!patient) throw new Error(`series ${s.id} has no patient`);
        return patient;
      },
    }),
    instances: t.connection(
      {
        type: DicomFileRef,
        description: 'Current versions of its instances; default order INSTANCE_NUMBER ASC (files without one first).',
        args: {
          filter: t.arg({ type: DicomFileFilterInput, required: false }),
          orderBy: t.arg({ type: DicomFileOrderInput, required: false }),
        },
        resolve: (s, args, ctx) =>
          toConnection(
            ctx.files.catalog.listFiles(fileFilter(args.filter), orderOr(args.orderBy, { field: 'INSTANCE_NUMBER', direction: 'ASC' }), args, { seriesId: s.id }),
          ),
      },
      DicomFileConnection,
    ),
  }),
});

builder.queryField('series', (t) =>
  t.connection(
    {
      type: SeriesRef,
      description: 'Series, filtered and sorted; default order LAST_UPLOADED_AT DESC.',
      args: {
        filter: t.arg({ type: SeriesFilterInput, required: false }),
        orderBy: t.arg({ type: SeriesOrderInput, required: false }),
      },
      resolve: (_root, args, ctx) =>
        toConnection(ctx.files.catalog.listSeries(seriesFilter(args.filter), orderOr(args.orderBy, { field: 'LAST_UPLOADED_AT', direction: 'DESC' }), args)),
    },
    SeriesConnection,
  ),
);
