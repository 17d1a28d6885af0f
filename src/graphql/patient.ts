/** Patient (the top of the catalog) and its root connection `patients`. */
import { dicomDateToIso } from '../dicom/instance-summary.js';
import { builder } from './builder.js';
import { orNull, PatientConnection, PatientRef, rowId, StudyConnection, StudyRef, toConnection } from './catalog-refs.js';
import { orderOr, PatientFilterInput, PatientOrderInput, patientFilter, StudyFilterInput, StudyOrderInput, studyFilter } from './catalog-inputs.js';

builder.node(PatientRef, {
  description:
    'A patient: one per (Patient ID, Issuer of Patient ID). Files with the same ID but another name are kept under the same patient and reported by hasConflictingNames / otherPatientNames. Files without a Patient ID go to an unknown patient of their own per study (isUnknown).',
  id: { resolve: (p) => p.id },
  loadOne: (id, ctx) => {
    const n = rowId(id);
    return n === undefined ? null : (ctx.files.catalog.patient(n) ?? null);
  },
  fields: (t) => ({
    patientId: t.string({ nullable: true, description: '(0010,0020); null for an unknown patient.', resolve: (p) => orNull(p.patientId) }),
    issuerOfPatientId: t.string({ nullable: true, description: '(0010,0021).', resolve: (p) => orNull(p.issuer) }),
    isUnknown: t.boolean({
      description: 'True for the placeholder holding files without a Patient ID (one per study, never merged with another).',
      resolve: (p) => p.patientId === '',
    }),
    patientName: t.string({ nullable: true, description: 'Alphabetic group of (0010,0010) in the most recently uploaded file that has one.', resolve: (p) => p.patientName }),
    otherPatientNames: t.stringList({
      description: 'Every other distinct name stored files of this patient carry (sorted); empty when all agree.',
      resolve: (p, _args, ctx) => ctx.files.catalog.otherPatientNames(p),
    }),
    hasConflictingNames: t.boolean({
      description: 'True when stored files of this patient carry more than one distinct name.',
      resolve: (p, _args, ctx) => ctx.files.catalog.patientNameCount(p.id) > 1,
    }),
    birthDate: t.string({ nullable: true, description: '(0010,0030) as DICOM DA "YYYYMMDD".', resolve: (p) => p.birthDate }),
    birthDateIso: t.field({ type: 'LocalDate', nullable: true, description: 'birthDate as "YYYY-MM-DD".', resolve: (p) => dicomDateToIso(p.birthDate) }),
    sex: t.string({ nullable: true, description: '(0010,0040).', resolve: (p) => p.sex }),
    numberOfStudies: t.int({ resolve: (p) => p.studyCount }),
    numberOfInstances: t.int({ description: 'Instances (current versions) in all studies.', resolve: (p) => p.instanceCount }),
    firstUploadedAt: t.field({ type: 'DateTime', resolve: (p) => p.firstUploadedAt }),
    lastUploadedAt: t.field({ type: 'DateTime', resolve: (p) => p.lastUploadedAt }),
    studies: t.connection(
      {
        type: StudyRef,
        description: "The patient's studies; default order STUDY_DATE DESC.",
        args: {
          filter: t.arg({ type: StudyFilterInput, required: false }),
          orderBy: t.arg({ type: StudyOrderInput, required: false }),
        },
        resolve: (p, args, ctx) =>
          toConnection(
            ctx.files.catalog.listStudies(studyFilter(args.filter), orderOr(args.orderBy, { field: 'STUDY_DATE', direction: 'DESC' }), args, { patientId: p.id }),
          ),
      },
      StudyConnection,
    ),
  }),
});

builder.queryField('patients', (t) =>
  t.connection(
    {
      type: PatientRef,
      description: 'Patients, filtered and sorted; default order PATIENT_NAME ASC.',
      args: {
        filter: t.arg({ type: PatientFilterInput, required: false }),
        orderBy: t.arg({ type: PatientOrderInput, required: false }),
      },
      resolve: (_root, args, ctx) =>
        toConnection(ctx.files.catalog.listPatients(patientFilter(args.filter), orderOr(args.orderBy, { field: 'PATIENT_NAME', direction: 'ASC' }), args)),
    },
    PatientConnection,
  ),
);
