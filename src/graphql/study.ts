/** Study and its root connection `studies`. */
import { dicomDateToIso } from '../dicom/instance-summary.js';
import { builder } from './builder.js';
import { orderOr, SeriesFilterInput, SeriesOrderInput, seriesFilter, StudyFilterInput, StudyOrderInput, studyFilter } from './catalog-inputs.js';
import { orNull, PatientRef, rowId, SeriesConnection, SeriesRef, StudyConnection, StudyRef, toConnection } from './catalog-refs.js';

builder.node(StudyRef, {
  description:
    'A study: one per (patient, Study Instance UID). Attributes are the newest non-empty values among its stored files; counts are of current instance versions.',
  id: { resolve: (s) => s.id },
  loadOne: (id, ctx) => {
    const n = rowId(id);
    return n === undefined ? null : (ctx.files.catalog.study(n) ?? null);
  },
  fields: (t) => ({
    studyInstanceUid: t.string({ nullable: true, description: '(0020,000D); null for the study holding files without one.', resolve: (s) => orNull(s.studyInstanceUid) }),
    studyDate: t.string({ nullable: true, description: '(0008,0020) as DICOM DA "YYYYMMDD".', resolve: (s) => orNull(s.studyDate) }),
    studyDateIso: t.field({ type: 'LocalDate', nullable: true, description: 'studyDate as "YYYY-MM-DD".', resolve: (s) => dicomDateToIso(s.studyDate) }),
    studyTime: t.string({ nullable: true, description: '(0008,0030) as DICOM TM "HHMMSS.FFFFFF".', resolve: (s) => orNull(s.studyTime) }),
    studyDescription: t.string({ nullable: true, description: '(0008,1030).', resolve: (s) => s.studyDescription }),
    accessionNumber: t.string({ nullable: true, description: '(0008,0050).', resolve: (s) => s.accessionNumber }),
    referringPhysicianName: t.string({ nullable: true, description: 'Alphabetic group of (0008,0090).', resolve: (s) => s.referringPhysicianName }),
    modalitiesInStudy: t.stringList({
      description: 'Distinct modalities of its series, sorted (the (0008,0061) Modalities in Study of a C-FIND).',
      resolve: (s) => (s.modalities === '' ? [] : s.modalities.split('\\')),
    }),
    numberOfSeries: t.int({ resolve: (s) => s.seriesCount }),
    numberOfInstances: t.int({ description: 'Instances (current versions) in all its series.', resolve: (s) => s.instanceCount }),
    firstUploadedAt: t.field({ type: 'DateTime', resolve: (s) => s.firstUploadedAt }),
    lastUploadedAt: t.field({ type: 'DateTime', resolve: (s) => s.lastUploadedAt }),
    patient: t.field({
      type: PatientRef,
      resolve: (s, _args, ctx) => {
        const patient = ctx.files.catalog.patient(s.patientRef);
        if (!patient) throw new Error(`study ${s.id} has no patient ${s.patientRef}`);
        return patient;
      },
    }),
    series: t.connection(
      {
        type: SeriesRef,
        description: "The study's series; default order SERIES_NUMBER ASC.",
        args: {
          filter: t.arg({ type: SeriesFilterInput, required: false }),
          orderBy: t.arg({ type: SeriesOrderInput, required: false }),
        },
        resolve: (s, args, ctx) =>
          toConnection(
            ctx.files.catalog.listSeries(seriesFilter(args.filter), orderOr(args.orderBy, { field: 'SERIES_NUMBER', direction: 'ASC' }), args, { studyId: s.id }),
          ),
      },
      SeriesConnection,
    ),
  }),
});

builder.queryField('studies', (t) =>
  t.connection(
    {
      type: StudyRef,
      description: 'Studies, filtered and sorted; default order STUDY_DATE DESC (undated studies last).',
      args: {
        filter: t.arg({ type: StudyFilterInput, required: false }),
        orderBy: t.arg({ type: StudyOrderInput, required: false }),
      },
      resolve: (_root, args, ctx) =>
        toConnection(ctx.files.catalog.listStudies(studyFilter(args.filter), orderOr(args.orderBy, { field: 'STUDY_DATE', direction: 'DESC' }), args)),
    },
    StudyConnection,
  ),
);
